import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's package; CI installs it (.ci/run). */
export const PROMETHEUS_BIN = process.env.RAMPART_TEST_PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface Running {
  readonly url: string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
}

/** An application's /metrics endpoint: serves `exposition` (Prometheus text format). */
export async function startScrapeTarget(exposition: string): Promise<Running> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here\n');
    }
  });
  return { url: await listen(server), stop: closer(server) };
}

/** Accepts connections and never answers: a Prometheus that hangs. */
export async function startSilentServer(): Promise<Running> {
  const server = createServer(() => {});
  return { url: await listen(server), stop: closer(server) };
}

/**
 * A private Prometheus (own config, own TSDB in a temp dir, a free port) scraping `target`
 * every second. Resolves once `readyQuery` returns data, so tests never race the first scrape.
 */
export async function startPrometheus(target: string, readyQuery: string, timeoutMs = 30_000): Promise<Running> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus (or set RAMPART_TEST_PROMETHEUS_BIN).`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'rampart-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: app',
      '    static_configs:',
      `      - targets: ['${new URL(target).host}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  const deadline = Date.now() + timeoutMs;
  const probe = `${url}/api/v1/query?query=${encodeURIComponent(readyQuery)}`;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const body = (await (await fetch(probe, { signal: AbortSignal.timeout(1000) })).json()) as { data?: { result?: unknown[] } };
      if ((body.data?.result?.length ?? 0) > 0) return { url, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`Prometheus did not return data for ${readyQuery} within ${timeoutMs} ms. Its log:\n${log}`);
}
