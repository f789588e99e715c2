/** Where the test suite finds Postgres and Redis; the machine's services by default. */
export const TEST_ADMIN_DATABASE_URL =
  process.env.CONDUIT_TEST_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.CONDUIT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEMPLATE_DATABASE = process.env.CONDUIT_TEST_TEMPLATE_DATABASE ?? 'conduit_test_template';

export function databaseUrl(name: string): string {
  const u = new URL(TEST_ADMIN_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
