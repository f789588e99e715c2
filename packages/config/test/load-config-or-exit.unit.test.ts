import { describe, expect, it } from 'vitest';
import { EX_CONFIG, loadConfigOrExit } from '../src/index.ts';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function run(env: NodeJS.ProcessEnv) {
  let written = '';
  let code: number | undefined;
  try {
    const config = loadConfigOrExit(env, 'worker', {
      isTTY: false,
      write: (text) => {
        written += text;
      },
      exit: (c) => {
        throw new Exit(c);
      },
    });
    return { config, written, code };
  } catch (error) {
    if (!(error instanceof Exit)) throw error;
    code = error.code;
    return { config: undefined, written, code };
  }
}

describe('loadConfigOrExit', () => {
  it('prints the heading and every problem to stderr, then exits with 78 (EX_CONFIG)', () => {
    const { written, code } = run({ CONDUIT_API_PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(code).toBe(EX_CONFIG);
    expect(EX_CONFIG).toBe(78);
    expect(written.split('\n')).toEqual([
      'conduit worker: configuration is invalid:',
      expect.stringMatching(/^ {2}LOG_LEVEL: "loud" is not a log level/),
      '  CONDUIT_API_PORT: "abc" is not a port number; expected an integer 1–65535 (e.g. 3000)',
      '',
    ]);
  });

  it('returns the config when it is valid, writing nothing', () => {
    const { config, written, code } = run({});
    expect(config?.api.port).toBe(3000);
    expect(written).toBe('');
    expect(code).toBeUndefined();
  });
});
