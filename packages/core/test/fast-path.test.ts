// Tests for the code paths that exist only for speed: the salt midstate, the ASCII fast path and
// its fallback, the adaptive bucket cache, the evaluator's per-flag memo and shared results.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, createEvaluator, evaluate, prepareSalt, type Flag } from '@rampart/core';
import { BucketCache } from '../src/evaluator.js';
import { sha256Head32 } from '../src/sha256.js';

const head32 = (text: string) => createHash('sha256').update(text, 'utf8').digest().readUInt32BE(0);
const refBucket = (salt: string, id: string) => head32(`${salt}:${id}`) % 10_000;

describe('sha256Head32 with a prepared salt (midstate)', () => {
  it('matches node:crypto for salts of every length 0..60 and ids around the one-block limit', () => {
    const ids = ['', 'a', 'user-42', 'x'.repeat(20), 'y'.repeat(54), 'z'.repeat(55), 'w'.repeat(56), 'v'.repeat(70)];
    for (let len = 0; len <= 60; len++) {
      const salt = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(0, len);
      const prepared = prepareSalt(salt);
      // With the ':' the prefix is len + 1 bytes; every whole word of it is in the midstate.
      expect(prepared.midRounds).toBe(len + 1 <= 55 ? (len + 1) >> 2 : 0);
      for (const id of ids) expect(sha256Head32(prepared, id)).toBe(head32(`${salt}:${id}`));
    }
  });

  it('matches node:crypto for multi-byte salts of every byte length and ids filling the block byte by byte', () => {
    for (let len = 0; len <= 30; len++) {
      const salt = 'é'.repeat(len >> 1) + (len & 1 ? 'q' : ''); // byte length len
      const prepared = prepareSalt(salt);
      for (let n = 0; n + len + 1 <= 60; n++) {
        const id = 'k'.repeat(n);
        expect(sha256Head32(prepared, id)).toBe(head32(`${salt}:${id}`));
      }
    }
  });

  it('falls back correctly when a non-ASCII character appears anywhere in the id', () => {
    const tails = ['é', '€', '😀', '\ud800', '\udc00x', 'a\ud83d', '\u0080', '\u07ff', '\uffff'];
    for (const salt of ['', 'c', 'chat', 'passenger_favorites_matching', 's'.repeat(50)]) {
      const prepared = prepareSalt(salt);
      for (const tail of tails) {
        for (let at = 0; at < 30; at += 3) {
          const id = 'p'.repeat(at) + tail + 'q'.repeat(at & 7);
          const ref = createHash('sha256').update(`${salt}:${id}`, 'utf8').digest().readUInt32BE(0);
          expect(sha256Head32(prepared, id)).toBe(ref);
        }
      }
    }
  });

  it('reuses one prepared salt for many ids, interleaved with other salts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'chat', 'passenger_favorites_matching', 'ü'), fc.string({ unit: 'grapheme', maxLength: 30 })), { maxLength: 40 }), (pairs) => {
        for (const [salt, id] of pairs) expect(bucketOf(salt, id)).toBe(refBucket(salt, id));
      }),
      { numRuns: 300 },
    );
  });
});

describe('adaptive bucket cache', () => {
  it('rests after a window of never-repeating ids and comes back for a steady population', () => {
    const cache = new BucketCache(100); // window: max(2 × 100, 1024) = 1024 lookups
    let n = 0;
    const lookup = (id: string) => {
      const b = cache.get(id);
      if (b < 0) cache.set(id, n++ % 10_000);
    };
    for (let i = 0; i < 1024; i++) lookup(`once-${i}`);
    expect(cache.active).toBe(false);
    // Resting: never a hit, even for an id it holds.
    expect(cache.get('once-1023')).toBe(-1);
    // A steady population of 50: after the rest (32 windows) and one trial window, it is back.
    for (let i = 0; i < 33 * 1024; i++) lookup(`steady-${i % 50}`);
    expect(cache.active).toBe(true);
    for (let i = 0; i < 5 * 1024; i++) lookup(`steady-${i % 50}`);
    expect(cache.active).toBe(true);
    expect(cache.get('steady-7')).toBeGreaterThanOrEqual(0);
  });

  it('keeps a population that fits on, including one that only comes round once per capacity', () => {
    const cache = new BucketCache(1000); // window 2000
    for (let i = 0; i < 20_000; i++) {
      const id = `cyclic-${i % 1000}`;
      if (cache.get(id) < 0) cache.set(id, 1);
    }
    expect(cache.active).toBe(true);
  });

  it('never changes a result: an evaluator with a small cache agrees with evaluate() on a shifting stream', () => {
    const ev = createEvaluator({ bucketCacheSize: 16 });
    const flag: Flag = { key: 'passenger_favorites_matching', enabled: true, rolloutBasisPoints: 2500, allowlist: ['vip'] };
    const phases = [
      (i: number) => `fresh-${i}`,
      (i: number) => `steady-${i % 20}`,
      (i: number) => (i % 3 === 0 ? `steady-${i % 20}` : `mixed-${i}`),
      (i: number) => `steady-${i % 7}`,
    ];
    for (const idOf of phases) {
      for (let i = 0; i < 40_000; i++) {
        const id = idOf(i);
        const fast = ev.evaluate(flag, { id });
        if (i % 97 === 0 || fast.bucket !== refBucket(flag.key, id)) expect(fast).toEqual(evaluate(flag, { id }));
      }
    }
  });
});

describe('createEvaluator fast path', () => {
  const base: Flag = { key: 'chat', enabled: true, rolloutBasisPoints: 5000, allowlist: [] };

  it('alternating flag objects and new versions of one flag each get their own rules', () => {
    const ev = createEvaluator();
    const versions = [0, 10_000, 2500].map((bp) => ({ ...base, rolloutBasisPoints: bp }));
    const other: Flag = { key: 'other', enabled: true, rolloutBasisPoints: 5000, allowlist: ['u1'], stickiness: 'account' };
    for (let i = 0; i < 300; i++) {
      const id = `u${i}`;
      for (const f of versions) expect(ev.evaluate(f, { id })).toEqual(evaluate(f, { id }));
      expect(ev.evaluate(other, { account: id })).toEqual(evaluate(other, { account: id }));
      expect(ev.evaluate(other, { id })).toEqual(evaluate(other, { id }));
    }
  });

  it('shares frozen rollout results, equal to fresh ones', () => {
    const ev = createEvaluator({ bucketCacheSize: 0 });
    const a = ev.evaluate(base, { id: 'user-1' });
    const b = ev.evaluate({ ...base }, { id: 'user-1' });
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual(evaluate(base, { id: 'user-1' }));
  });

  it('reports a non-object flag as INVALID_FLAG, like evaluate()', () => {
    const ev = createEvaluator();
    for (const bad of [42, 'flag', true]) {
      const r = ev.evaluate(bad as unknown as Flag, { id: 'x' }, true);
      expect(r).toEqual(evaluate(bad as unknown as Flag, { id: 'x' }, { defaultValue: true }));
      expect(r.errorCode).toBe('INVALID_FLAG');
    }
  });

  it('gives the same bucket from bucket(), evaluate() and bucketOf()', () => {
    const ev = createEvaluator();
    const f: Flag = { ...base, salt: 'chat-v2' };
    for (let i = 0; i < 2000; i++) {
      const id = `user-${i}`;
      expect(ev.bucket(f, id)).toBe(bucketOf('chat-v2', id));
      expect(ev.evaluate(f, { id }).bucket).toBe(refBucket('chat-v2', id));
    }
  });
});
