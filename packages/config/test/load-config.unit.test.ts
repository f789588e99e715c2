import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_SCOPES, ConfigError, loadConfig, REPOSITORY_ROOT, sha256Hex } from '../src/index.ts';
import { PRODUCTION_ENV, problemFor, problemsOf } from './helpers.ts';

describe('loadConfig › defaults', () => {
  it('an empty environment loads the development defaults, pointed at the local sandbox', () => {
    const config = loadConfig({}, { isTTY: false });
    expect(config.runtime).toEqual({
      nodeEnv: 'development',
      isProduction: false,
      logLevel: 'info',
      logFormat: 'json',
      dataDir: join(REPOSITORY_ROOT, '.conduit'),
      datastoreWaitSeconds: 20,
      sweepsOff: [],
    });
    expect(config.database).toEqual({
      url: 'postgresql://postgres@127.0.0.1:5432/conduit',
      urlIsSet: false,
      localPort: 5432,
      poolSize: 10,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 5_000,
    });
    expect(config.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      urlIsSet: false,
      clusterNodes: undefined,
      localPort: 6379,
      queuePrefix: '{conduit}',
    });
    expect(config.api).toEqual({
      host: '127.0.0.1',
      port: 3000,
      publicUrl: 'http://127.0.0.1:3000',
      oauthStateTtlSeconds: 600,
      webhookToleranceSeconds: 300,
      webhookMaxBodyBytes: 1_048_576,
      workerMetricsPort: 9464,
      appOrigin: '*',
      webhookStoreTimeoutMs: 5000,
      webhookEnqueueTimeoutMs: 1000,
      inboxSweepIntervalSeconds: 60,
      inboxRequeueAfterSeconds: 60,
      readyCheckTimeoutMs: 1500,
      healthReadTimeoutMs: 2000,
      fathomWebhookMode: 'per_connection',
      webhookSweepIntervalSeconds: 300,
      signIn: { maxPerClient: 20, maxPerName: 10, windowSeconds: 300, storeTimeoutMs: 500 },
    });
    expect(config.providers.sandboxUrl).toBe('http://127.0.0.1:4000');
    expect(config.providers.clients.spotify).toEqual({
      key: 'spotify',
      enabled: true,
      clientId: 'conduit-spotify',
      clientSecret: 'sandbox-secret-spotify',
      authorizeUrl: undefined,
      tokenUrl: undefined,
      apiBaseUrl: undefined,
    });
    expect(config.sandbox).toEqual({
      host: '127.0.0.1',
      port: 4000,
      seed: 42,
      newAccountMeetings: 3,
      faults: undefined,
      demoUsers: 3,
      demoTokenTtlSeconds: 360,
    });
    expect(config.timings.lockTtlMs).toBe(60_000);
    expect(config.timings.refreshBufferSeconds).toBe(300);
  });

  it('development secrets are set, and labelled as development-only', () => {
    const { security } = loadConfig({}, { isTTY: false });
    expect(security.encryptionKeys).toHaveLength(1);
    expect(security.encryptionKeys[0]?.id).toBe('dev');
    expect(Buffer.from(security.encryptionKeys[0]?.key ?? '', 'base64')).toHaveLength(32);
    expect(security.logHashKey).toContain('dev-only');
    expect(security.apiKeys).toEqual([
      { name: 'dev', scopes: [...API_SCOPES], sha256: sha256Hex('dev-api-key') },
    ]);
    expect(security.operators).toEqual([
      { name: 'admin', role: 'admin', password: 'admin' },
      { name: 'viewer', role: 'viewer', password: 'viewer' },
    ]);
    expect(security.fathomWebhookSecret).toMatch(/^whsec_/);
    expect(security.notify).toBeUndefined();
  });

  it('test mode uses the development defaults', () => {
    const config = loadConfig({ NODE_ENV: 'test' }, { isTTY: false });
    expect(config.runtime.nodeEnv).toBe('test');
    expect(config.providers.sandboxUrl).toBe('http://127.0.0.1:4000');
    expect(config.security.apiKeys.map((k) => k.name)).toEqual(['dev']);
  });

  it('production defaults are right for production: real providers, no sandbox, no demo users', () => {
    const config = loadConfig(PRODUCTION_ENV, { isTTY: true });
    expect(config.runtime.isProduction).toBe(true);
    expect(config.runtime.logFormat).toBe('json');
    expect(config.providers.sandboxUrl).toBeUndefined();
    for (const client of Object.values(config.providers.clients)) {
      expect(client).toMatchObject({ enabled: false, clientId: undefined, clientSecret: undefined });
      expect(client?.tokenUrl).toBeUndefined();
    }
    expect(config.sandbox.demoUsers).toBe(0);
    expect(config.timings.refreshBufferSeconds).toBe(300);
  });

  it('LOG_FORMAT defaults to pretty on a terminal and to json otherwise', () => {
    expect(loadConfig({}, { isTTY: true }).runtime.logFormat).toBe('pretty');
    expect(loadConfig({}, { isTTY: false }).runtime.logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }, { isTTY: true }).runtime.logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }, { isTTY: false }).runtime.logFormat).toBe('pretty');
  });

  it('a blank value counts as unset', () => {
    const config = loadConfig({ CONDUIT_API_PORT: '', LOG_LEVEL: '  ' }, { isTTY: false });
    expect(config.api.port).toBe(3000);
    expect(config.runtime.logLevel).toBe('info');
  });

  it('values are parsed and trimmed: numbers are numbers, base URLs lose their trailing slash', () => {
    const config = loadConfig(
      {
        CONDUIT_API_PORT: ' 8080 ',
        CONDUIT_PUBLIC_URL: 'https://conduit.example.com/',
        CONDUIT_SANDBOX_FAULTS: '{"spotify":{"rate":0.5}}',
        CONDUIT_API_KEYS: `one:${sha256Hex('key-one')}, two:tokens:read+meetings:read:${sha256Hex('key-two').toUpperCase()},`,
        CONDUIT_ENCRYPTION_KEYS:
          'k2:bm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm4=,k1:b29vb29vb29vb29vb29vb29vb29vb29vb29vb29vb28=',
      },
      { isTTY: false },
    );
    expect(config.api.port).toBe(8080);
    expect(config.api.publicUrl).toBe('https://conduit.example.com');
    expect(config.sandbox.faults).toEqual({ spotify: { rate: 0.5 } });
    expect(config.security.apiKeys).toEqual([
      { name: 'one', scopes: ['connections:read'], sha256: sha256Hex('key-one') },
      { name: 'two', scopes: ['tokens:read', 'meetings:read'], sha256: sha256Hex('key-two') },
    ]);
    expect(config.security.encryptionKeys).toEqual([
      { id: 'k2', key: 'bm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm4=' },
      { id: 'k1', key: 'b29vb29vb29vb29vb29vb29vb29vb29vb29vb29vb28=' },
    ]);
  });

  it('the result is deeply frozen', () => {
    const config = loadConfig({ CONDUIT_SANDBOX_FAULTS: '{"a":{"b":1}}' }, { isTTY: false });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.api)).toBe(true);
    expect(Object.isFrozen(config.providers.clients.github)).toBe(true);
    expect(Object.isFrozen(config.security.operators)).toBe(true);
    expect(Object.isFrozen(config.security.operators[0])).toBe(true);
    expect(Object.isFrozen(config.sandbox.faults?.a)).toBe(true);
    expect(() => {
      (config.api as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig › Redis Cluster', () => {
  it('REDIS_CLUSTER_NODES lists the nodes and makes the default prefix one without a hash tag, so keys spread', () => {
    const config = loadConfig(
      { REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b.internal:7001,[::1]:7002 ' },
      { isTTY: false },
    );
    expect(config.redis.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.redis.queuePrefix).toBe('conduit');
    // One server keeps the prefix every release before cluster support used.
    expect(loadConfig({}, { isTTY: false }).redis.queuePrefix).toBe('{conduit}');
  });

  it('a prefix that is set wins over either default', () => {
    const config = loadConfig(
      { REDIS_CLUSTER_NODES: 'a:7000', CONDUIT_QUEUE_PREFIX: '{pinned}' },
      { isTTY: false },
    );
    expect(config.redis.queuePrefix).toBe('{pinned}');
  });

  it('REDIS_URL and REDIS_CLUSTER_NODES together are refused with the choice spelled out', () => {
    const line = problemFor('REDIS_CLUSTER_NODES', {
      REDIS_URL: 'redis://10.0.0.1:6379',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000',
    });
    expect(line).toContain('is set together with REDIS_URL');
    expect(line).toContain('REDIS_CLUSTER_NODES for a Redis Cluster or REDIS_URL for one server');
  });
});

describe('loadConfig › bad values', () => {
  it('a problem line names the variable, what was wrong, what is expected and the fix', () => {
    expect(problemsOf({ CONDUIT_API_PORT: 'abc' })).toEqual([
      'CONDUIT_API_PORT: "abc" is not a port number; expected an integer 1–65535 (e.g. 3000)',
    ]);
  });

  it.each([
    ['NODE_ENV', 'prod', ['"prod" is not a known environment', 'development, test, production']],
    [
      'LOG_LEVEL',
      'verbose',
      ['"verbose" is not a log level', 'fatal, error, warn, info, debug, trace, silent'],
    ],
    ['LOG_FORMAT', 'text', ['"text" is not a log format', 'json, pretty']],
    ['CONDUIT_API_PORT', '70000', ['"70000" is not a port number', '1–65535']],
    ['CONDUIT_API_HOST', 'http://0.0.0.0', ['is not a host name or IP address', 'e.g. 127.0.0.1']],
    ['DATABASE_URL', 'mysql://localhost/conduit', ['is not a Postgres URL', 'postgres:// or postgresql://']],
    ['DATABASE_POOL_SIZE', '0', ['"0" is not a connection count', '1–1000', 'e.g. 10']],
    [
      'REDIS_URL',
      'localhost:6379',
      ['is not a Redis URL', 'redis:// or rediss://', 'e.g. redis://127.0.0.1:6379'],
    ],
    ['CONDUIT_QUEUE_PREFIX', '{conduit', ['"{conduit" has a "{" with no matching "}"', '{conduit}']],
    ['CONDUIT_QUEUE_PREFIX', 'conduit}', ['has a "}" with no "{" before it', '{conduit}']],
    ['CONDUIT_QUEUE_PREFIX', '{}conduit', ['empty hash tag', '{conduit}']],
    ['REDIS_CLUSTER_NODES', ' , ', ['has no nodes', 'host:port', 'e.g. 10.0.0.1:6379,']],
    ['REDIS_CLUSTER_NODES', '10.0.0.1', ['node 1 ("10.0.0.1") is not host:port', 'e.g. 10.0.0.1:6379,']],
    [
      'REDIS_CLUSTER_NODES',
      'redis://10.0.0.1:6379',
      ['node 1 ("redis://10.0.0.1:6379") is a URL', 'without a scheme'],
    ],
    ['REDIS_CLUSTER_NODES', 'a:6379,b:70000', ['node 2 ("b:70000") has the port 70000', '1–65535']],
    ['REDIS_CLUSTER_NODES', 'a:6379,a:6379', ['node 2 ("a:6379") appears twice', 'list each node once']],
    ['CONDUIT_ENCRYPTION_KEYS', 'just-a-key', ['key 1 is not "id:base64"', 'k1:<base64 of 32 random bytes>']],
    ['CONDUIT_ENCRYPTION_KEYS', 'k1:', ['key "k1" has no value', 'openssl rand -base64 32']],
    [
      'CONDUIT_ENCRYPTION_KEYS',
      'k1:YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=,k1:YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI=',
      ['key id "k1" appears twice', 'k1, k2'],
    ],
    ['CONDUIT_ENCRYPTION_KEYS', 'k1:YQ==', ['key "k1" is 1 bytes, expected 32', 'openssl rand -base64 32']],
    ['CONDUIT_ENCRYPTION_KEYS', 'k1:not*base64', ['key "k1" is not valid base64', 'openssl rand -base64 32']],
    ['CONDUIT_LOG_HASH_KEY', 'short', ['is 5 characters, expected at least 16', 'openssl rand']],
    [
      'CONDUIT_OPERATORS',
      'bob:root:pw',
      ['operator 1 ("bob") has the role "root"', 'expected admin or viewer'],
    ],
    ['CONDUIT_OPERATORS', 'bob:admin', ['operator 1 ("bob") is not "name:role:password"', 'alice:admin:']],
    ['CONDUIT_FATHOM_WEBHOOK_SECRET', 'abc', ['does not start with "whsec_"', 'openssl rand -base64 32']],
    ['CONDUIT_FATHOM_WEBHOOK_SECRET', 'whsec_not base64!', ['is not base64 after "whsec_"', 'openssl rand']],
    ['CONDUIT_NOTIFY_URL', 'ftp://app.example.com/hook', ['is not an HTTP URL', 'http:// or https://']],
    ['CONDUIT_SANDBOX_URL', 'localhost:4000', ['is not an HTTP URL', 'e.g. http://127.0.0.1:4000']],
    ['CONDUIT_SPOTIFY_TOKEN_URL', 'not a url', ['is not an HTTP URL', 'http:// or https://']],
    [
      'CONDUIT_REFRESH_BUFFER_SECONDS',
      '-5',
      ['"-5" is not a number of seconds', 'expected an integer', 'e.g. 300'],
    ],
    ['CONDUIT_RETRY_BASE_MS', '1.5', ['"1.5" is not a number of milliseconds', 'e.g. 1000']],
    ['CONDUIT_LOCK_TTL_MS', '9999999999', ['is not a number of milliseconds', '1–2147483647']],
    ['CONDUIT_REFRESH_SWEEP_BATCH_SIZE', 'lots', ['"lots" is not a whole number', 'e.g. 1000']],
    ['CONDUIT_SANDBOX_FAULTS', '{oops', ['is not valid JSON', 'expected a JSON object']],
    ['CONDUIT_SANDBOX_FAULTS', '[1, 2]', ['is JSON but not an object', 'expected a JSON object']],
    ['CONDUIT_DEMO_USERS', 'three', ['"three" is not a number of users', 'e.g. 3']],
  ])('%s=%j gives one line naming it and the fix', (name, value, fragments) => {
    const line = problemFor(name, { [name]: value });
    for (const fragment of fragments) expect(line).toContain(fragment);
  });

  it('every problem is reported, not just the first, in documentation order', () => {
    const problems = problemsOf({
      LOG_LEVEL: 'loud',
      CONDUIT_API_PORT: 'abc',
      REDIS_URL: 'nope',
      CONDUIT_SYNC_CONCURRENCY: '0',
      CONDUIT_SANDBOX_PORT: '-1',
    });
    expect(problems.map((line) => line.slice(0, line.indexOf(':')))).toEqual([
      'LOG_LEVEL',
      'REDIS_URL',
      'CONDUIT_API_PORT',
      'CONDUIT_SYNC_CONCURRENCY',
      'CONDUIT_SANDBOX_PORT',
    ]);
  });

  it('a wrong NODE_ENV does not hide the other problems', () => {
    const problems = problemsOf({ NODE_ENV: 'prod', CONDUIT_API_PORT: 'abc' });
    expect(problems).toHaveLength(2);
  });

  it('a problem line never repeats a secret', () => {
    const lines = [
      ...problemsOf({ CONDUIT_OPERATORS: 'bob:root:hunter2-password' }),
      ...problemsOf({ DATABASE_URL: 'mysql://app:hunter2-password@db/conduit' }),
      ...problemsOf({ CONDUIT_ENCRYPTION_KEYS: 'k1:hunter2-password,k1:hunter2-password' }),
      ...problemsOf({ CONDUIT_LOG_HASH_KEY: 'hunter2-passwor' }),
      ...problemsOf({ CONDUIT_NOTIFY_SECRET: 'hunter2-password' }),
    ];
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).not.toContain('hunter2');
  });

  it('CONDUIT_LOCK_TTL_MS must exceed the three HTTP timeouts and the commit budget together, and the line names every side', () => {
    const line = problemFor('CONDUIT_LOCK_TTL_MS', {
      CONDUIT_LOCK_TTL_MS: '30000',
      CONDUIT_HTTP_CONNECT_TIMEOUT_MS: '5000',
      CONDUIT_HTTP_HEADERS_TIMEOUT_MS: '15000',
      CONDUIT_HTTP_BODY_TIMEOUT_MS: '15000',
    });
    expect(line).toContain(
      'CONDUIT_HTTP_CONNECT_TIMEOUT_MS + CONDUIT_HTTP_HEADERS_TIMEOUT_MS + CONDUIT_HTTP_BODY_TIMEOUT_MS + CONDUIT_REFRESH_COMMIT_BUDGET_MS',
    );
    expect(line).toContain('45000');
    expect(line).toContain('a lease must outlive the HTTP call it guards and the write of its answer');
    expect(problemsOf({ CONDUIT_LOCK_TTL_MS: '45000' })).toHaveLength(1);
    expect(loadConfig({ CONDUIT_LOCK_TTL_MS: '45001' }, { isTTY: false }).timings.lockTtlMs).toBe(45_001);
    expect(
      loadConfig(
        {
          CONDUIT_LOCK_TTL_MS: '36001',
          CONDUIT_REFRESH_COMMIT_BUDGET_MS: '1000',
          CONDUIT_REFRESH_RESCUE_TIMEOUT_MS: '500',
        },
        { isTTY: false },
      ).timings.lockTtlMs,
    ).toBe(36_001);
  });

  it('a lock rule is not reported on top of a timeout that is itself wrong', () => {
    expect(problemsOf({ CONDUIT_HTTP_BODY_TIMEOUT_MS: 'forever' })).toHaveLength(1);
  });

  it('a claimed connection is queued again before its token could lapse: requeue-after below the buffer', () => {
    const line = problemFor('CONDUIT_REFRESH_REQUEUE_AFTER_SECONDS', {
      CONDUIT_REFRESH_BUFFER_SECONDS: '60',
    });
    expect(line).toContain('120 s is not below CONDUIT_REFRESH_BUFFER_SECONDS (60 s)');
    expect(line).toContain('e.g. 24');
    const ok = loadConfig(
      { CONDUIT_REFRESH_BUFFER_SECONDS: '60', CONDUIT_REFRESH_REQUEUE_AFTER_SECONDS: '20' },
      { isTTY: false },
    );
    expect(ok.timings.refreshRequeueAfterSeconds).toBe(20);
  });

  it('a rescue-slot operation ends within the commit budget: the rescue timeout below it', () => {
    const line = problemFor('CONDUIT_REFRESH_RESCUE_TIMEOUT_MS', {
      CONDUIT_REFRESH_RESCUE_TIMEOUT_MS: '10000',
    });
    expect(line).toContain('10000 ms is not below CONDUIT_REFRESH_COMMIT_BUDGET_MS (10000 ms)');
    expect(line).toContain('e.g. 2000');
    expect(problemsOf({ CONDUIT_REFRESH_RESCUE_TIMEOUT_MS: '500', CONDUIT_REFRESH_COMMIT_BUDGET_MS: '400' })).toEqual([
      expect.stringContaining('e.g. 80'),
    ]);
    expect(problemsOf({ CONDUIT_REFRESH_RESCUE_TIMEOUT_MS: '0' })).toHaveLength(1);
    expect(loadConfig({}, { isTTY: false }).timings.refreshRescueTimeoutMs).toBe(2_000);
    expect(
      loadConfig({ CONDUIT_REFRESH_RESCUE_TIMEOUT_MS: '9999' }, { isTTY: false }).timings.refreshRescueTimeoutMs,
    ).toBe(9_999);
  });

  it('the first retry delay may not exceed the retry cap', () => {
    const line = problemFor('CONDUIT_RETRY_BASE_MS', {
      CONDUIT_RETRY_BASE_MS: '5000',
      CONDUIT_RETRY_MAX_MS: '1000',
    });
    expect(line).toContain('CONDUIT_RETRY_MAX_MS (1000 ms)');
  });

  it('CONDUIT_SCHEDULER_SWEEPS_OFF takes known sweep names only, each once', () => {
    const config = loadConfig(
      { CONDUIT_SCHEDULER_SWEEPS_OFF: ' sync-sweep, webhook-sweep,sync-sweep ' },
      { isTTY: false },
    );
    expect(config.runtime.sweepsOff).toEqual(['sync-sweep', 'webhook-sweep']);
    expect(
      problemFor('CONDUIT_SCHEDULER_SWEEPS_OFF', { CONDUIT_SCHEDULER_SWEEPS_OFF: 'sync-sweep,syncs' }),
    ).toBe(
      'CONDUIT_SCHEDULER_SWEEPS_OFF: "syncs" is not a sweep; expected a comma-separated list of refresh-sweep, lapse-sweep, sync-sweep, recovery-sweep, inbox-sweep, webhook-sweep, cleanup',
    );
  });

  it('ConfigError carries the lines and a message listing them', () => {
    try {
      loadConfig({ CONDUIT_API_PORT: 'abc' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain('CONDUIT_API_PORT: "abc" is not a port number');
    }
  });
});

describe('loadConfig › production', () => {
  it('production requires the secrets and the public URL, each with how to make one', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      'CONDUIT_ENCRYPTION_KEYS: required when NODE_ENV=production; set it to "k1:<base64 of 32 random bytes>" (openssl rand -base64 32)',
      expect.stringMatching(
        /^CONDUIT_LOG_HASH_KEY: required when NODE_ENV=production; set it to a random string/,
      ),
      expect.stringMatching(/^CONDUIT_API_KEYS: required when NODE_ENV=production; set it to/),
      expect.stringMatching(
        /^CONDUIT_OPERATORS: required when NODE_ENV=production; set it to name:role:password/,
      ),
      expect.stringMatching(
        /^CONDUIT_PUBLIC_URL: required when NODE_ENV=production; set it to the https URL/,
      ),
      expect.stringMatching(/^CONDUIT_APP_ORIGIN: required when NODE_ENV=production; set it to the origin/),
    ]);
  });

  it('production refuses the development secrets published in this repository', () => {
    const dev = loadConfig({}, { isTTY: false }).security;
    const problems = problemsOf({
      ...PRODUCTION_ENV,
      CONDUIT_ENCRYPTION_KEYS: `${dev.encryptionKeys[0]?.id}:${dev.encryptionKeys[0]?.key}`,
      CONDUIT_API_KEYS: `mine:tokens:read:${sha256Hex('dev-api-key')}`,
    });
    expect(problems).toHaveLength(2);
    for (const line of problems)
      expect(line).toMatch(/development (default|key "dev-api-key"), which is public/);
  });

  it('a provider is enabled in production only when its client id and secret are set', () => {
    const config = loadConfig(
      {
        ...PRODUCTION_ENV,
        CONDUIT_SPOTIFY_CLIENT_ID: 'spotify-id',
        CONDUIT_SPOTIFY_CLIENT_SECRET: 'spotify-secret',
      },
      { isTTY: false },
    );
    expect(config.providers.clients.spotify).toMatchObject({ enabled: true, clientId: 'spotify-id' });
    expect(config.providers.clients.google.enabled).toBe(false);
  });

  it('the Fathom webhook secret is required once Fathom is enabled in operator webhook mode, not before', () => {
    const fathom = {
      CONDUIT_FATHOM_CLIENT_ID: 'fathom-id',
      CONDUIT_FATHOM_CLIENT_SECRET: 'fathom-secret',
      CONDUIT_FATHOM_WEBHOOK_MODE: 'operator',
    };
    // Per-connection webhooks (the default) carry secrets of their own.
    expect(
      loadConfig({ ...PRODUCTION_ENV, ...fathom, CONDUIT_FATHOM_WEBHOOK_MODE: 'per_connection' }).security
        .fathomWebhookSecret,
    ).toBeUndefined();
    expect(problemsOf({ ...PRODUCTION_ENV, ...fathom })).toEqual([
      expect.stringMatching(/^CONDUIT_FATHOM_WEBHOOK_SECRET: required when Fathom is enabled/),
    ]);
    const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=';
    const config = loadConfig({ ...PRODUCTION_ENV, ...fathom, CONDUIT_FATHOM_WEBHOOK_SECRET: secret });
    expect(config.security.fathomWebhookSecret).toBe(secret);
  });

  it('notifications need a signing secret once CONDUIT_NOTIFY_URL is set', () => {
    const url = 'https://app.example.com/hooks/conduit';
    expect(problemsOf({ ...PRODUCTION_ENV, CONDUIT_NOTIFY_URL: url })).toEqual([
      expect.stringMatching(
        /^CONDUIT_NOTIFY_SECRET: required when CONDUIT_NOTIFY_URL is set; set it to "whsec_"/,
      ),
    ]);
    const secret = 'whsec_bm90aWZ5LW5vdGlmeS1ub3RpZnk=';
    const config = loadConfig({ ...PRODUCTION_ENV, CONDUIT_NOTIFY_URL: url, CONDUIT_NOTIFY_SECRET: secret });
    expect(config.security.notify).toEqual({ url, secret });
  });

  it('the sandbox can still serve a production-mode run when asked', () => {
    const config = loadConfig({ ...PRODUCTION_ENV, CONDUIT_SANDBOX_URL: 'http://sandbox:4000/' });
    expect(config.providers.sandboxUrl).toBe('http://sandbox:4000');
  });
});

describe('loadConfig › providers', () => {
  it('CONDUIT_GITHUB_ and CONDUIT_GITHUB_APP_ variables do not bleed into each other', () => {
    const config = loadConfig(
      {
        CONDUIT_GITHUB_APP_CLIENT_ID: 'app-id',
        CONDUIT_GITHUB_APP_CLIENT_SECRET: 'app-secret',
        CONDUIT_GITHUB_APP_TOKEN_URL: 'https://github.example/app/token',
        CONDUIT_GITHUB_APP_API_BASE_URL: 'https://api.github.example/app',
      },
      { isTTY: false },
    );
    expect(config.providers.clients.github).toMatchObject({
      clientId: 'conduit-github',
      clientSecret: 'sandbox-secret-github',
      tokenUrl: undefined,
      apiBaseUrl: undefined,
    });
    expect(config.providers.clients.github_app).toMatchObject({
      clientId: 'app-id',
      clientSecret: 'app-secret',
      tokenUrl: 'https://github.example/app/token',
      apiBaseUrl: 'https://api.github.example/app',
    });

    const reverse = loadConfig(
      {
        ...PRODUCTION_ENV,
        CONDUIT_GITHUB_CLIENT_ID: 'oauth-id',
        CONDUIT_GITHUB_CLIENT_SECRET: 'oauth-secret',
      },
      { isTTY: false },
    );
    expect(reverse.providers.clients.github.enabled).toBe(true);
    expect(reverse.providers.clients.github_app.enabled).toBe(false);
  });

  it('a client id without its secret (or the reverse) is a problem naming both', () => {
    expect(problemsOf({ CONDUIT_DISCORD_CLIENT_ID: 'real-id' })).toEqual([
      "CONDUIT_DISCORD_CLIENT_SECRET: required when CONDUIT_DISCORD_CLIENT_ID is set; set both CONDUIT_DISCORD_CLIENT_ID and CONDUIT_DISCORD_CLIENT_SECRET (from Discord's developer settings), or neither to disable discord",
    ]);
    expect(problemsOf({ ...PRODUCTION_ENV, CONDUIT_GOOGLE_CLIENT_SECRET: 'real-secret' })).toEqual([
      expect.stringMatching(/^CONDUIT_GOOGLE_CLIENT_ID: required when CONDUIT_GOOGLE_CLIENT_SECRET is set;/),
    ]);
  });

  it('endpoint overrides are kept as given; the API base URL loses its trailing slash', () => {
    const config = loadConfig(
      {
        CONDUIT_SPOTIFY_AUTHORIZE_URL: 'https://accounts.example/authorize',
        CONDUIT_SPOTIFY_API_BASE_URL: 'https://api.example/v1/',
      },
      { isTTY: false },
    );
    expect(config.providers.clients.spotify.authorizeUrl).toBe('https://accounts.example/authorize');
    expect(config.providers.clients.spotify.apiBaseUrl).toBe('https://api.example/v1');
  });

  it('CONDUIT_SANDBOX_URL=off sends development to the real providers', () => {
    expect(loadConfig({ CONDUIT_SANDBOX_URL: 'off' }, { isTTY: false }).providers.sandboxUrl).toBeUndefined();
  });
});
