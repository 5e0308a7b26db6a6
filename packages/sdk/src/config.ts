import { HASH_VERSION, SPEC_VERSION, validateFlagShape, type Flag } from '@rampart/core';

/** What `GET /api/sdk/config` and the stream's `config` events carry. */
export interface SdkConfig {
  readonly etag: string;
  readonly specVersion: number;
  readonly hashVersion: string;
  readonly flags: readonly Flag[];
}

/**
 * Accepts what an application may hand the SDK as a bootstrap: the server's SDK config, or a
 * snapshot (`GET /api/admin/snapshots/:id`, `{ content: { flags } }`), or any `{ flags }`.
 * Throws with a message that names the problem: a bad bootstrap is a deployment error.
 */
export function parseConfig(input: unknown): SdkConfig {
  const doc = (typeof input === 'string' ? JSON.parse(input) : input) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error('Rampart config: expected a JSON object');
  const inner = (doc.content && typeof doc.content === 'object' ? doc.content : doc) as Record<string, unknown>;
  const flags = inner.flags;
  if (!Array.isArray(flags)) throw new Error('Rampart config: expected a "flags" array');
  if (doc.specVersion !== undefined && doc.specVersion !== SPEC_VERSION) {
    throw new Error(`Rampart config: spec version ${String(doc.specVersion)} is not ${SPEC_VERSION}; upgrade the SDK`);
  }
  if (doc.hashVersion !== undefined && doc.hashVersion !== HASH_VERSION) {
    throw new Error(`Rampart config: hash ${String(doc.hashVersion)} is not ${HASH_VERSION}; upgrade the SDK`);
  }
  const out: Flag[] = [];
  for (const [i, raw] of flags.entries()) {
    const f = raw as Record<string, unknown>;
    if (f.archived === true) continue;
    const flag: Flag = Object.freeze({
      key: f.key as string,
      enabled: f.enabled as boolean,
      rolloutBasisPoints: (f.rolloutBasisPoints ?? Math.round(Number(f.rolloutPercentage ?? 0) * 100)) as number,
      allowlist: Object.freeze([...((f.allowlist as string[] | undefined) ?? [])]),
      salt: (f.salt as string | undefined) ?? (f.key as string),
      stickiness: (f.stickiness as string | undefined) ?? 'id',
      version: f.version as number | undefined,
    });
    const problem = validateFlagShape(flag);
    if (problem) throw new Error(`Rampart config: flags[${i}] ${problem}`);
    out.push(flag);
  }
  const etag = typeof doc.etag === 'string' ? doc.etag : `"bootstrap-${out.length}"`;
  return { etag, specVersion: SPEC_VERSION, hashVersion: HASH_VERSION, flags: out };
}
