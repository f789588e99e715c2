import { describe, expect, it } from 'vitest';
import { errorCode, isConnectionError, redisEndpoint } from '../src/redis-outages.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('redis outages › what a log line names', () => {
  it('the endpoint is host:port, never the user or password of REDIS_URL', () => {
    expect(redisEndpoint('redis://default:s3cret@cache.internal:6380/2')).toBe('cache.internal:6380');
    expect(redisEndpoint('rediss://:s3cret@cache.internal')).toBe('cache.internal:6379');
    expect(redisEndpoint('not a url :s3cret')).not.toContain('s3cret');
  });

  it('the code of a refused connection, also when Node refused both IPv4 and IPv6', () => {
    expect(errorCode(withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'))).toBe('ECONNREFUSED');
    const both = new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')], '');
    expect(errorCode(both)).toBe('ECONNREFUSED');
    expect(isConnectionError(both)).toBe(true);
  });
});

describe('redis outages › which errors are the connection', () => {
  it('socket errors and closed connections are; a failed command is not', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'])
      expect(isConnectionError(withCode('x', code)), code).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new Error('ERR Error running script (call to f_…): @user_script:1'))).toBe(
      false,
    );
    expect(isConnectionError(new Error('could not renew lock for job 7'))).toBe(false);
  });
});
