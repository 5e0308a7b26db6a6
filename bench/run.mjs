// Runs the benchmark scripts one after the other (each in its own `node` process, so one
// cannot warm up or slow down the next), passes their output through, and copies each one's
// markdown report (its stdout) into its section of docs/benchmarks.md.
//
// Usage: npm run bench            (builds first)
//        node bench/run.mjs [--quick] [--only=http-eval,core-eval]   (other arguments go to every script)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The benchmarks, in run order. `section` names the `<!-- name:start -->` / `<!-- name:end -->`
 * markers in docs/benchmarks.md that receive the script's stdout; a missing script is skipped.
 */
const SCRIPTS = [
  { script: 'bench/core-eval.mjs', section: 'core-eval' },
  { script: 'bench/http-eval.mjs', section: 'http-eval' },
  { script: 'bench/sdk-eval.mjs', section: 'sdk-eval' },
  { script: 'bench/sdk-propagation.mjs', section: 'sdk-propagation' },
  { script: 'bench/sdk-memory.mjs', section: 'sdk-memory' },
  { script: 'bench/metrics-ingest.mjs', section: 'metrics-ingest' },
  { script: 'bench/metrics-summary.mjs', section: 'metrics-summary' },
  { script: 'bench/checkpoint.mjs', section: 'checkpoint' },
  { script: 'bench/watchdog-sim.mjs', section: 'watchdog-sim' },
  { script: 'bench/web-ui.mjs', section: 'web-ui' },
];

const root = fileURLToPath(new URL('..', import.meta.url));
const docPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const passArgs = process.argv.slice(2).filter((a) => !a.startsWith('--only='));

function run(script) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...passArgs], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited with code ${code}`))));
  });
}

function replaceSection(doc, section, body) {
  const start = `<!-- ${section}:start -->`;
  const end = `<!-- ${section}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) {
    console.error(`docs/benchmarks.md has no ${start} … ${end} markers; not updated for ${section}`);
    return doc;
  }
  return `${doc.slice(0, from + start.length)}\n${body.trim()}\n${doc.slice(to)}`;
}

let failed = false;
let doc = readFileSync(docPath, 'utf8');
for (const { script, section } of SCRIPTS) {
  if (!existsSync(new URL(`../${script}`, import.meta.url))) continue;
  if (only && !only.includes(section)) continue;
  console.error(`\n== node ${script} ${passArgs.join(' ')}`.trimEnd());
  try {
    const report = await run(script);
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const note = passArgs.length ? ` (with \`${passArgs.join(' ')}\`: not comparable with full runs)` : '';
    // The command as run: `--only` picks scripts without changing what each one measures.
    const command = only ? `node bench/run.mjs --only=${only.join(',')}` : 'npm run bench';
    doc = replaceSection(doc, section, `_Last run: ${when} UTC, command \`${command}\`${note}._\n\n${report}`);
    writeFileSync(docPath, doc);
  } catch (err) {
    failed = true;
    console.error(err instanceof Error ? err.message : err);
  }
}
process.exitCode = failed ? 1 : 0;
