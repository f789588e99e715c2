// Prisma CLI configuration: the JS schema engine over a pg driver adapter, so generate and
// migrate run with no native engine download (see ../shared/PLATFORM_NOTES.md).
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/conduit';
// schema.prisma reads env("DATABASE_URL"); the same local default as the apps' config.
process.env.DATABASE_URL ??= DEFAULT_DATABASE_URL;

// Catalog columns of type `name` (oid 19) and `"char"` (oid 18) are rejected by the adapter
// (prisma/orm#27403); reporting them as `text` (oid 25) is exact for what the CLI reads.
const TEXT_OID = 25;
const CATALOG_OIDS = new Set([18, 19]);

type FieldLike = { dataTypeID: number };
type ResultLike = { fields?: FieldLike[] };

function asText(result: unknown): unknown {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as ResultLike | undefined)?.fields ?? []) {
      if (CATALOG_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

class CatalogAsTextClient extends pg.Client {
  // pg.Client#query has many overloads; pool clients pass a callback, the adapter awaits a promise.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: Error | null, res: unknown) => last(err, err ? res : asText(res));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (super.query as any)(...args);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const out = (super.query as any)(...args);
    return out && typeof out.then === 'function' ? out.then(asText) : out;
  }
}

function poolConfig(url: string, database?: string): pg.PoolConfig {
  const u = new URL(url);
  return {
    host: decodeURIComponent(u.hostname),
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: database ?? (decodeURIComponent(u.pathname.slice(1)) || 'postgres'),
    max: 4,
    // the CLI never ends its pool; without this every command waits out the 10 s idle timeout
    allowExitOnIdle: true,
    idleTimeoutMillis: 200,
    Client: CatalogAsTextClient,
  };
}

type ScriptAdapter = { executeScript(script: string): Promise<void> };

// The stock adapter runs a migration by splitting it on ";", which cuts any function body
// ($$ … $$) apart. Send the whole script instead, as one simple-protocol query: Postgres parses
// it properly and runs it as one implicit transaction, so a migration applies entirely or not at
// all. (Nothing that refuses a transaction block, such as CREATE INDEX CONCURRENTLY, can go in one.)
function wholeScripts<T extends ScriptAdapter>(adapter: T): T {
  const internals = adapter as unknown as { client: pg.Pool | pg.Client; onError(error: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await internals.client.query(script);
    } catch (error) {
      internals.onError(error);
    }
  };
  return adapter;
}

// `migrate dev` needs a shadow database. The stock adapter drops it while its own pool is still
// connected and ignores the name when built from a URL: build it from fields and end the pool first.
class MigrationAdapter extends PrismaPg {
  constructor(private readonly url: string) {
    super(poolConfig(url));
  }

  override async connect() {
    return wholeScripts(await super.connect());
  }

  override async connectToShadowDb() {
    const admin = new pg.Client({ ...poolConfig(this.url), Client: undefined } as pg.ClientConfig);
    const name = `conduit_shadow_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const shadow = wholeScripts(await new PrismaPg(poolConfig(this.url, name)).connect());
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    };
    return shadow;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => new MigrationAdapter(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL),
});
