// docs/api.md and docs/cli.md are generated from the server's OpenAPI document and the CLI's own
// --help output. This test regenerates both (in child processes, as a person would run the
// scripts, so the terminal cannot change the output) and fails when the committed files differ.
// The scripts import packages/server/dist: `npm test` builds first.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIX = 'run `node scripts/gen-api-docs.mjs && node scripts/gen-cli-docs.mjs`';
const run = promisify(execFile);

async function regenerate(script: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const { stdout } = await run(process.execPath, [join(ROOT, 'scripts', script), '--stdout'], {
    cwd: ROOT,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

describe('generated reference docs are up to date', () => {
  for (const [doc, script] of [
    ['docs/api.md', 'gen-api-docs.mjs'],
    ['docs/cli.md', 'gen-cli-docs.mjs'],
  ] as const) {
    it(`${doc} matches ${script}`, async () => {
      const generated = await regenerate(script);
      const committed = readFileSync(join(ROOT, doc), 'utf8');
      expect(generated === committed, `${doc} is out of date: ${FIX}`).toBe(true);
      expect(generated).toBe(committed);
    }, 180_000);
  }
});
