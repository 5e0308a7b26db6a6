import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/open.js';

describe('openDatabase without DATABASE_URL (PGlite)', () => {
  const cwd = process.cwd();
  let dir = '';

  afterEach(() => {
    process.chdir(cwd);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a memory:// database in memory and creates no directory for it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-open-'));
    process.chdir(dir);
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      expect(await db.query<{ n: number }>('select 1 as n')).toEqual([{ n: 1 }]);
    } finally {
      await db.close();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('creates a missing data directory and keeps its files there', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-open-'));
    const dataDir = join(dir, 'nested', 'data');
    const db = await openDatabase({ dataDir });
    try {
      await db.query('create table kept (n int)');
    } finally {
      await db.close();
    }
    expect(readdirSync(dataDir).length).toBeGreaterThan(0);
  });
});
