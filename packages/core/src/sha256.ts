/**
 * SHA-256 specialised for bucketing: it returns only the first 32 bits of the digest of
 * UTF-8(prefix + subject). This runs once per evaluation of every new subject, so it is tuned
 * for V8 (Node and browsers alike; pure JavaScript, no platform crypto, which is async in
 * browsers and has a high per-call cost in Node for a 30-byte input):
 *
 * - Inputs up to 55 bytes fit one block and are hashed with no allocation.
 * - The prefix (`salt:`) is the same for every subject of a flag, so `preparePrefix` runs the
 *   rounds over its whole words once and keeps the state (a "midstate"); each call starts there.
 * - The 48 rounds with a computed message schedule are unrolled 16 at a time with the message
 *   words in local variables: the schedule then overlaps the rounds instead of being a serial
 *   store/load chain through an array. Small helper functions would be neater, but V8 stops
 *   inlining them well before 48 rounds' worth of calls (measured: 3.5x slower).
 *
 * Longer inputs take a general multi-block path. Results are bit-identical to any SHA-256;
 * the tests cross-check against node:crypto.
 */

import { concat, utf8 } from './utf8.js';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** Scratch space, reused by every call (JavaScript runs one call at a time). */
const W = new Int32Array(16);

/** Max message bytes that still leave room for the 0x80 marker and the 64-bit length. */
const SINGLE_BLOCK_MAX = 55;

/**
 * A prefix (a salt plus ':'), pre-encoded once; bucketing many subjects for one flag reuses it.
 * `words` holds its bytes big-endian, `length` their count. When the prefix leaves room in the
 * block, `midstate` is the working state after the first `midRounds` rounds, which only read
 * the prefix's whole words (`midRounds` = floor(length / 4)).
 */
export interface HashPrefix {
  readonly words: Int32Array;
  readonly length: number;
  readonly midRounds: number;
  readonly midstate: Int32Array;
}

export function preparePrefix(prefix: string): HashPrefix {
  const bytes = utf8(prefix);
  const words = new Int32Array(Math.max(16, Math.ceil(bytes.length / 4) + 1));
  for (let i = 0; i < bytes.length; i++) {
    words[i >> 2]! |= bytes[i]! << ((3 - (i & 3)) << 3);
  }
  const midstate = IV.slice();
  const midRounds = bytes.length <= SINGLE_BLOCK_MAX ? bytes.length >> 2 : 0;
  for (let t = 0; t < midRounds; t++) round(midstate, t, words[t]!);
  return { words, length: bytes.length, midRounds, midstate };
}

/** One SHA-256 round on the state `s`, in place; for the paths that are not hot. */
function round(s: Int32Array, t: number, wt: number): void {
  const a = s[0]!, b = s[1]!, c = s[2]!, e = s[4]!, f = s[5]!, g = s[6]!;
  const t1 = (s[7]! + K[t]! + wt + (g ^ (e & (f ^ g))) +
    (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7)))) | 0;
  const t2 = ((a & b) | (c & (a | b))) +
    (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10)));
  s[7] = g;
  s[6] = f;
  s[5] = e;
  s[4] = (s[3]! + t1) | 0;
  s[3] = c;
  s[2] = b;
  s[1] = a;
  s[0] = (t1 + t2) | 0;
}

/** First 32 bits (big-endian, unsigned) of SHA-256(UTF-8(prefix) ‖ UTF-8(subject)). */
export function sha256Head32(prefix: HashPrefix, subject: string): number {
  const pLen = prefix.length;
  const n = subject.length;
  // UTF-8 never has fewer bytes than UTF-16 units, so this rules out multi-block inputs early.
  if (pLen + n <= SINGLE_BLOCK_MAX) {
    const words = prefix.words;
    const full = pLen >> 2;
    for (let i = 0; i < full; i++) W[i] = words[i]!;
    // ASCII fast path: assemble each word in a register, store it once.
    let acc = words[full]!;
    let pos = pLen;
    let wi = full;
    let i = 0;
    for (; i < n; i++) {
      const c = subject.charCodeAt(i);
      if (c >= 0x80) break;
      acc |= c << ((3 - (pos & 3)) << 3);
      if ((++pos & 3) === 0) {
        W[wi++] = acc;
        acc = 0;
      }
    }
    if (i < n) {
      // Not ASCII: redo the subject with the general UTF-8 writer.
      for (let j = full; j < 16; j++) W[j] = words[j]!;
      pos = writeUtf8(subject, pLen);
      if (pos >= 0) return finishBlock(prefix, pos);
    } else {
      W[wi] = acc;
      for (let j = wi + 1; j < 16; j++) W[j] = 0;
      return finishBlock(prefix, pos);
    }
  }
  return sha256Bytes(concat(prefixBytes(prefix), utf8(subject)))[0]! >>> 0;
}

/**
 * Pads the block in W (message of `n` bytes), runs the rounds after the prefix's midstate and
 * returns the first output word.
 */
function finishBlock(prefix: HashPrefix, n: number): number {
  W[n >> 2]! |= 0x80 << ((3 - (n & 3)) << 3);
  W[15] = n * 8;
  const m = prefix.midstate;
  let a = m[0]!, b = m[1]!, c = m[2]!, d = m[3]!, e = m[4]!, f = m[5]!, g = m[6]!, h = m[7]!;
  // Rounds over the message words themselves (those not already in the midstate).
  for (let t = prefix.midRounds; t < 16; t++) {
    const t1 = (h + K[t]! + W[t]! + (g ^ (e & (f ^ g))) +
      (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7)))) | 0;
    const t2 = ((a & b) | (c & (a | b))) +
      (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10)));
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  // Rounds 16..63, 16 per iteration; w0..w15 is the sliding window of the message schedule.
  let w0 = W[0]!, w1 = W[1]!, w2 = W[2]!, w3 = W[3]!, w4 = W[4]!, w5 = W[5]!, w6 = W[6]!, w7 = W[7]!;
  let w8 = W[8]!, w9 = W[9]!, w10 = W[10]!, w11 = W[11]!, w12 = W[12]!, w13 = W[13]!, w14 = W[14]!;
  let w15 = W[15]!;
  let x = 0;
  let y = 0;
  for (let t = 16; t < 64; t += 16) {
    x = w1;
    y = w14;
    w0 = (w0 + w9 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (h + K[t]! + w0 + (g ^ (e & (f ^ g))) +
      (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7)))) | 0;
    d = (d + x) | 0;
    h = (x + ((a & b) | (c & (a | b))) +
      (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10)))) | 0;
    x = w2;
    y = w15;
    w1 = (w1 + w10 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (g + K[t + 1]! + w1 + (f ^ (d & (e ^ f))) +
      (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7)))) | 0;
    c = (c + x) | 0;
    g = (x + ((h & a) | (b & (h | a))) +
      (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10)))) | 0;
    x = w3;
    y = w0;
    w2 = (w2 + w11 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (f + K[t + 2]! + w2 + (e ^ (c & (d ^ e))) +
      (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7)))) | 0;
    b = (b + x) | 0;
    f = (x + ((g & h) | (a & (g | h))) +
      (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10)))) | 0;
    x = w4;
    y = w1;
    w3 = (w3 + w12 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (e + K[t + 3]! + w3 + (d ^ (b & (c ^ d))) +
      (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7)))) | 0;
    a = (a + x) | 0;
    e = (x + ((f & g) | (h & (f | g))) +
      (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10)))) | 0;
    x = w5;
    y = w2;
    w4 = (w4 + w13 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (d + K[t + 4]! + w4 + (c ^ (a & (b ^ c))) +
      (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7)))) | 0;
    h = (h + x) | 0;
    d = (x + ((e & f) | (g & (e | f))) +
      (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10)))) | 0;
    x = w6;
    y = w3;
    w5 = (w5 + w14 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (c + K[t + 5]! + w5 + (b ^ (h & (a ^ b))) +
      (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7)))) | 0;
    g = (g + x) | 0;
    c = (x + ((d & e) | (f & (d | e))) +
      (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10)))) | 0;
    x = w7;
    y = w4;
    w6 = (w6 + w15 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (b + K[t + 6]! + w6 + (a ^ (g & (h ^ a))) +
      (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7)))) | 0;
    f = (f + x) | 0;
    b = (x + ((c & d) | (e & (c | d))) +
      (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10)))) | 0;
    x = w8;
    y = w5;
    w7 = (w7 + w0 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (a + K[t + 7]! + w7 + (h ^ (f & (g ^ h))) +
      (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7)))) | 0;
    e = (e + x) | 0;
    a = (x + ((b & c) | (d & (b | c))) +
      (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10)))) | 0;
    x = w9;
    y = w6;
    w8 = (w8 + w1 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (h + K[t + 8]! + w8 + (g ^ (e & (f ^ g))) +
      (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7)))) | 0;
    d = (d + x) | 0;
    h = (x + ((a & b) | (c & (a | b))) +
      (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10)))) | 0;
    x = w10;
    y = w7;
    w9 = (w9 + w2 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (g + K[t + 9]! + w9 + (f ^ (d & (e ^ f))) +
      (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7)))) | 0;
    c = (c + x) | 0;
    g = (x + ((h & a) | (b & (h | a))) +
      (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10)))) | 0;
    x = w11;
    y = w8;
    w10 = (w10 + w3 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (f + K[t + 10]! + w10 + (e ^ (c & (d ^ e))) +
      (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7)))) | 0;
    b = (b + x) | 0;
    f = (x + ((g & h) | (a & (g | h))) +
      (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10)))) | 0;
    x = w12;
    y = w9;
    w11 = (w11 + w4 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (e + K[t + 11]! + w11 + (d ^ (b & (c ^ d))) +
      (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7)))) | 0;
    a = (a + x) | 0;
    e = (x + ((f & g) | (h & (f | g))) +
      (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10)))) | 0;
    x = w13;
    y = w10;
    w12 = (w12 + w5 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (d + K[t + 12]! + w12 + (c ^ (a & (b ^ c))) +
      (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7)))) | 0;
    h = (h + x) | 0;
    d = (x + ((e & f) | (g & (e | f))) +
      (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10)))) | 0;
    x = w14;
    y = w11;
    w13 = (w13 + w6 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (c + K[t + 13]! + w13 + (b ^ (h & (a ^ b))) +
      (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7)))) | 0;
    g = (g + x) | 0;
    c = (x + ((d & e) | (f & (d | e))) +
      (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10)))) | 0;
    x = w15;
    y = w12;
    w14 = (w14 + w7 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (b + K[t + 14]! + w14 + (a ^ (g & (h ^ a))) +
      (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7)))) | 0;
    f = (f + x) | 0;
    b = (x + ((c & d) | (e & (c | d))) +
      (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10)))) | 0;
    x = w0;
    y = w13;
    w15 = (w15 + w8 + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
      (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
    x = (a + K[t + 15]! + w15 + (h ^ (f & (g ^ h))) +
      (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7)))) | 0;
    e = (e + x) | 0;
    a = (x + ((b & c) | (d & (b | c))) +
      (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10)))) | 0;
  }
  return (IV[0]! + a) >>> 0;
}

/**
 * Writes the UTF-8 bytes of `s` into W starting at byte `pos`. Returns the end position, or -1
 * when the message would not fit one block (the caller then takes the general path).
 */
function writeUtf8(s: string, pos: number): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (pos >= SINGLE_BLOCK_MAX) return -1;
      W[pos >> 2]! |= c << ((3 - (pos & 3)) << 3);
      pos++;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate, as TextEncoder does
    let bytes: number;
    if (c < 0x800) bytes = 2;
    else if (c < 0x10000) bytes = 3;
    else bytes = 4;
    if (pos + bytes > SINGLE_BLOCK_MAX) return -1;
    if (bytes === 2) {
      put(pos++, 0xc0 | (c >> 6));
    } else if (bytes === 3) {
      put(pos++, 0xe0 | (c >> 12));
      put(pos++, 0x80 | ((c >> 6) & 0x3f));
    } else {
      put(pos++, 0xf0 | (c >> 18));
      put(pos++, 0x80 | ((c >> 12) & 0x3f));
      put(pos++, 0x80 | ((c >> 6) & 0x3f));
    }
    put(pos++, 0x80 | (c & 0x3f));
  }
  return pos;
}

function put(pos: number, byte: number): void {
  W[pos >> 2]! |= byte << ((3 - (pos & 3)) << 3);
}

function schedule(w: Int32Array): void {
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
}

/** Full SHA-256 of arbitrary bytes; returns the eight digest words. */
export function sha256Bytes(msg: Uint8Array): Int32Array {
  const blocks = Math.ceil((msg.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(msg);
  padded[msg.length] = 0x80;
  const bitLen = msg.length * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const w = new Int32Array(64);
  const digest = IV.slice();
  const state = new Int32Array(8);
  for (let blk = 0; blk < blocks; blk++) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(blk * 64 + i * 4);
    schedule(w);
    state.set(digest);
    for (let t = 0; t < 64; t++) round(state, t, w[t]!);
    for (let i = 0; i < 8; i++) digest[i] = (digest[i]! + state[i]!) | 0;
  }
  return digest;
}

function prefixBytes(prefix: HashPrefix): Uint8Array {
  const out = new Uint8Array(prefix.length);
  for (let i = 0; i < prefix.length; i++) out[i] = (prefix.words[i >> 2]! >>> ((3 - (i & 3)) << 3)) & 0xff;
  return out;
}
