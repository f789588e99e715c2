import { randomBytes } from 'node:crypto';

/** A key prefix of its own for one test file, so queues and locks of parallel files never meet. */
export function testPrefix(label = 't'): string {
  return `ctest:${label}:${randomBytes(4).toString('hex')}`;
}
