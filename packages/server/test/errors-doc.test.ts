import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../src/errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);

  it('documents every error code the server can send, with its status, and nothing else', () => {
    const catalog = Object.entries(ERROR_CATALOG).map(([code, e]) => [code, e.status]);
    expect(rows.sort()).toEqual(catalog.sort());
  });
});
