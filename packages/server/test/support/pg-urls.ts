/** Where the suite finds PostgreSQL. CI and this machine have it on 127.0.0.1:5432. */
export const PG_ADMIN_URL = process.env.RAMPART_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Test databases are named rampart_test_<pid of the run>_..., so parallel runs never collide. */
export const TEST_DB_PREFIX = 'rampart_test_';

export function templateName(runPid: number): string {
  return `${TEST_DB_PREFIX}${runPid}_template`;
}

/** Only an explicit opt-out (e.g. a laptop without PostgreSQL) turns the PostgreSQL runs off. */
export function pgEnabled(): boolean {
  return process.env.RAMPART_TEST_PG !== 'off';
}

export function withDatabase(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
