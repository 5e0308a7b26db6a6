import { HASH_VERSION, SPEC_VERSION } from '@rampart/core';
import { z } from 'zod';
import type { ConfigSnapshot } from '../evaluation/config-cache.js';

const SdkFlag = z.object({
  key: z.string(),
  enabled: z.boolean(),
  rolloutBasisPoints: z.number(),
  allowlist: z.array(z.string()),
  salt: z.string(),
  stickiness: z.string(),
  version: z.number(),
});

export const SdkConfig = z.object({
  etag: z.string().describe('changes whenever any flag changes; send it back as If-None-Match'),
  specVersion: z.number().describe('the evaluation spec the flags follow (design §3)'),
  hashVersion: z.string(),
  flags: z.array(SdkFlag),
});
export type SdkConfig = z.infer<typeof SdkConfig>;

/** What an SDK needs to evaluate locally: every live flag, in the core model. */
export function sdkConfigOf(snap: ConfigSnapshot): SdkConfig {
  const flags = [...snap.flags.values()].map((f) => ({
    key: f.key,
    enabled: f.enabled,
    rolloutBasisPoints: f.rolloutBasisPoints,
    allowlist: [...f.allowlist],
    salt: f.salt ?? f.key,
    stickiness: f.stickiness ?? 'id',
    version: f.version,
  }));
  return { etag: snap.etag, specVersion: SPEC_VERSION, hashVersion: HASH_VERSION, flags };
}
