import { describe, expect, it } from 'vitest';
import { describePostgresError } from '../src/reachability.ts';

const URL = 'postgresql://postgres@127.0.0.1:5432/conduit';

describe('reachability › Postgres errors at start', () => {
  it('a connection cut right after it opened (a restarting Postgres, a proxy in front of a down one) is waited out', () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'read ECONNRESET',
      'the database system is shutting down',
      'the database system is starting up',
    ]) {
      expect(describePostgresError(URL, message)).toMatchObject({ isConfiguration: false });
    }
  });

  it('an answer in another protocol, a wrong role or password is a setting to fix, said at once', () => {
    expect(describePostgresError(URL, 'Received unexpected copyData message')).toMatchObject({
      isConfiguration: true,
      sentence: expect.stringContaining('does not speak the Postgres protocol'),
    });
    expect(describePostgresError(URL, 'role "nobody" does not exist').isConfiguration).toBe(true);
    expect(describePostgresError(URL, 'password authentication failed for user "x"').isConfiguration).toBe(
      true,
    );
  });
});
