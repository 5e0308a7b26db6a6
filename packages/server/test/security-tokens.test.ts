import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSecret } from '../src/auth/token-service.js';
import type { Database } from '../src/db/database.js';
import { DRIVERS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';

const FORMAT = /^rpt_[A-Za-z0-9_-]{43}$/;

/** Every row of every table, as text: where a leaked secret would show. */
async function everything(db: Database): Promise<string> {
  const tables = await db.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`);
  const out: string[] = [];
  for (const { name } of tables) out.push(name, JSON.stringify(await db.query(`select * from "${name}"`)));
  return out.join('\n');
}

describe('token secrets', () => {
  it('are rpt_ + 43 base64url characters: 32 random bytes, 256 bits', () => {
    const secrets = Array.from({ length: 512 }, newSecret);
    const ones = new Array<number>(256).fill(0);
    for (const s of secrets) {
      expect(s).toMatch(FORMAT);
      const bytes = Buffer.from(s.slice(4), 'base64url');
      expect(bytes).toHaveLength(32);
      expect(bytes.toString('base64url')).toBe(s.slice(4));
      for (let bit = 0; bit < 256; bit++) ones[bit]! += (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    expect(new Set(secrets).size).toBe(secrets.length);
    // Every one of the 256 bits varies: each is set in about half the secrets (mean 256, sd 11.3;
    // outside 166..346 is 8 sd away). A constant or short-seeded bit would sit at 0 or 512.
    for (const n of ones) {
      expect(n).toBeGreaterThan(166);
      expect(n).toBeLessThan(346);
    }
  });
});

describe.each(DRIVERS)('tokens are stored only as hashes on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
  });
  afterAll(async () => t.close());

  it('keeps no secret in any column of any table, only its SHA-256, and authenticates by it', async () => {
    const res = await t.call('POST', '/api/admin/tokens', { body: { name: 'ci-deployer', role: 'OPERATOR' } });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json() as { id: string; token: string };
    expect(created.token).toMatch(FORMAT);
    const admin = 'a-chosen-admin-secret-of-at-least-32-characters';
    await t.app.rampart.tokens.bootstrap(admin);

    const rows = await t.db.query<{ id: string; token_hash: string }>('select * from api_tokens order by id');
    const secrets = [created.token, admin, ...Object.values(t.tokens)];
    const dump = await everything(t.db);
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice(4));
      const hash = createHash('sha256').update(secret).digest('hex');
      expect(rows.filter((r) => r.token_hash === hash)).toHaveLength(1);
    }
    for (const row of rows) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(rows[0]!).sort()).toEqual(['created_at', 'created_by', 'id', 'last_used_at', 'name', 'revoked_at', 'role', 'token_hash']);
    // The listing shows no secret or hash either.
    const list = (await t.call('GET', '/api/admin/tokens')).body;
    for (const secret of secrets) expect(list).not.toContain(secret);
    expect(list).not.toContain(rows[0]!.token_hash);
    // The secret works; one character off does not.
    expect((await t.call('GET', '/api/admin/session', { as: { secret: created.token } })).statusCode).toBe(200);
    const off = created.token.slice(0, -1) + (created.token.endsWith('A') ? 'B' : 'A');
    expect((await t.call('GET', '/api/admin/session', { as: { secret: off } })).statusCode).toBe(401);
  });
});
