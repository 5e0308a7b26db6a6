import { describe, expect, it } from 'vitest';
import { createKeyQueue } from '../src/flags/key-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('per-flag write queue', () => {
  it('runs work for one key one at a time, in arrival order, and other keys alongside', async () => {
    const run = createKeyQueue();
    const log: string[] = [];
    let inFlight = 0;
    let most = 0;
    const job = (key: string, i: number) =>
      run(key, async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        log.push(`${key}${i}+`);
        await tick();
        log.push(`${key}${i}-`);
        inFlight--;
        return i;
      });
    const results = await Promise.all([job('a', 1), job('a', 2), job('b', 1), job('a', 3)]);
    expect(results).toEqual([1, 2, 1, 3]);
    const a = log.filter((l) => l.startsWith('a'));
    expect(a).toEqual(['a1+', 'a1-', 'a2+', 'a2-', 'a3+', 'a3-']);
    // b ran while a was busy: two at once, never three.
    expect(most).toBe(2);
  });

  it('a failing write fails alone: the one queued behind it still runs', async () => {
    const run = createKeyQueue();
    const first = run('k', async () => {
      await tick();
      throw new Error('row gone');
    });
    const second = run('k', async () => 'done');
    await expect(first).rejects.toThrow('row gone');
    await expect(second).resolves.toBe('done');
  });
});
