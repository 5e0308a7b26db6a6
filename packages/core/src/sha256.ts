/**
 * SHA-256 specialised for bucketing: it returns only the first 32 bits of the digest of
 * UTF-8(prefix + subject). Inputs up to 55 bytes fit one block and are hashed with no
 * allocation: the message is written straight into a reused word array. Longer inputs take a
 * general multi-block path. Pure JavaScript so the same code runs in Node and in browsers.
 */

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
const W = new Int32Array(64);
const STATE = new Int32Array(8);

/** Max message bytes that still leave room for the 0x80 marker and the 64-bit length. */
const SINGLE_BLOCK_MAX = 55;

/**
 * A salt, pre-encoded once: the words of `salt + ':'` and how many bytes they hold. Bucketing
 * many subjects for one flag reuses it.
 */
export interface HashPrefix {
  readonly words: Int32Array;
  readonly length: number;
}

export function preparePrefix(prefix: string): HashPrefix {
  const bytes = utf8(prefix);
  const words = new Int32Array(Math.ceil(bytes.length / 4) + 1);
  for (let i = 0; i < bytes.length; i++) {
    words[i >> 2]! |= bytes[i]! << ((3 - (i & 3)) << 3);
  }
  return { words, length: bytes.length };
}

/** First 32 bits (big-endian, unsigned) of SHA-256(UTF-8(prefix) ‖ UTF-8(subject)). */
export function sha256Head32(prefix: HashPrefix, subject: string): number {
  const pLen = prefix.length;
  if (pLen <= SINGLE_BLOCK_MAX) {
    const pWords = (pLen + 3) >> 2;
    for (let i = 0; i < pWords; i++) W[i] = prefix.words[i]!;
    for (let i = pWords; i < 16; i++) W[i] = 0;
    const n = writeUtf8(subject, pLen);
    if (n >= 0) {
      W[n >> 2]! |= 0x80 << ((3 - (n & 3)) << 3);
      W[15] = n * 8;
      return compressHead(W);
    }
  }
  return sha256Bytes(concat(prefixBytes(prefix), utf8(subject)))[0]! >>> 0;
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

/** One compression of W from the initial state; returns the first output word. */
function compressHead(w: Int32Array): number {
  schedule(w);
  let a = IV[0]!, b = IV[1]!, c = IV[2]!, d = IV[3]!;
  let e = IV[4]!, f = IV[5]!, g = IV[6]!, h = IV[7]!;
  for (let t = 0; t < 64; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  return (IV[0]! + a) >>> 0;
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
  STATE.set(IV);
  for (let blk = 0; blk < blocks; blk++) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(blk * 64 + i * 4);
    schedule(w);
    let a = STATE[0]!, b = STATE[1]!, c = STATE[2]!, d = STATE[3]!;
    let e = STATE[4]!, f = STATE[5]!, g = STATE[6]!, h = STATE[7]!;
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    STATE[0] = (STATE[0]! + a) | 0; STATE[1] = (STATE[1]! + b) | 0;
    STATE[2] = (STATE[2]! + c) | 0; STATE[3] = (STATE[3]! + d) | 0;
    STATE[4] = (STATE[4]! + e) | 0; STATE[5] = (STATE[5]! + f) | 0;
    STATE[6] = (STATE[6]! + g) | 0; STATE[7] = (STATE[7]! + h) | 0;
  }
  return STATE.slice();
}

/** UTF-8 bytes of a string, lone surrogates as U+FFFD (what TextEncoder does). */
export function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else
      out.push(
        0xf0 | (c >> 18),
        0x80 | ((c >> 12) & 0x3f),
        0x80 | ((c >> 6) & 0x3f),
        0x80 | (c & 0x3f),
      );
  }
  return Uint8Array.from(out);
}

function prefixBytes(prefix: HashPrefix): Uint8Array {
  const out = new Uint8Array(prefix.length);
  for (let i = 0; i < prefix.length; i++) out[i] = (prefix.words[i >> 2]! >>> ((3 - (i & 3)) << 3)) & 0xff;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
