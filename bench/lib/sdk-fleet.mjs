// A fleet of `@rampart/sdk` clients in a child process, for bench/sdk-propagation.mjs: the
// parent forks N of these (`fork(thisFile)`), hands each its share of clients, and collects, per
// client, when it saw each version of the benchmark's flag (its `changed` event), on a clock
// shared by every process of the machine (`performance.timeOrigin + performance.now()`).
//
// Messages, parent → child: {type: 'start', token, flag, clients: [{url, replica}]}, then
// {type: 'report'}, then {type: 'close'}. Child → parent: {type: 'streaming'} once every client
// streams and has a config, {type: 'report', clients: [{replica, seen: [[version, at]], errors}]}
// and {type: 'closed'}.
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Milliseconds on a clock every process of the machine shares. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** Forks one fleet process; `request(msg, replyType)` sends a message and resolves with the reply. */
export function startFleet() {
  const child = fork(fileURLToPath(import.meta.url), ['--fleet'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  child.on('message', (msg) => {
    const resolve = waiting.get(msg.type);
    waiting.delete(msg.type);
    resolve?.(msg);
  });
  const request = (msg, replyType) =>
    new Promise((resolve, reject) => {
      const exited = (code) => reject(new Error(`fleet process exited (${code}) before '${replyType}'`));
      child.once('exit', exited);
      waiting.set(replyType, (reply) => {
        child.off('exit', exited);
        resolve(reply);
      });
      child.send(msg);
    });
  return { child, request };
}

async function runFleet() {
  const { createClient } = await import('../../packages/sdk/dist/index.js');
  const entries = [];
  process.on('message', async (msg) => {
    if (msg.type === 'start') {
      for (let i = 0; i < msg.clients.length; i++) {
        const { url, replica } = msg.clients[i];
        const client = createClient({ url, token: msg.token, reportExposures: false, flushIntervalMs: 3_600_000, streaming: true, env: {} });
        const entry = { client, replica, seen: new Map(), errors: 0 };
        client.on('changed', ({ key, version }) => {
          if (key === msg.flag && version !== undefined) entry.seen.set(version, wallNow());
        });
        client.on('error', () => entry.errors++);
        entries.push(entry);
        // Connect in small groups, as a fleet of services restarting would, not all at once.
        if (i % 50 === 49) await sleep(10);
      }
      while (!entries.every((e) => e.client.status().connection === 'streaming' && e.seen.size > 0)) await sleep(20);
      process.send({ type: 'streaming' });
    } else if (msg.type === 'report') {
      process.send({ type: 'report', clients: entries.map((e) => ({ replica: e.replica, seen: [...e.seen], errors: e.errors })) });
    } else if (msg.type === 'close') {
      await Promise.all(entries.map((e) => e.client.close().catch(() => {})));
      process.send({ type: 'closed' });
      process.disconnect();
    }
  });
}

if (process.argv.includes('--fleet')) await runFleet();
