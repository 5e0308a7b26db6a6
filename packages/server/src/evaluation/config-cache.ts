import type { Flag } from '@rampart/core';
import type { Database } from '../db/database.js';
import type { ChangeBus } from '../events/change-bus.js';
import { listFlags, type FlagRecord } from '../flags/store.js';

export interface EvaluableFlag extends Flag {
  readonly version: number;
}

export interface ConfigSnapshot {
  readonly flags: ReadonlyMap<string, EvaluableFlag>;
  /** Changes whenever any flag's version does; drives the SDK config ETag. */
  readonly etag: string;
  readonly loadedAt: number;
}

/**
 * The live flag config, kept in memory. A change committed through this replica clears it
 * before the response goes out; other replicas clear it on the change notification; the TTL
 * bounds staleness if a notification is ever lost.
 */
export class ConfigCache {
  private snapshot: ConfigSnapshot | undefined;
  private loading: Promise<ConfigSnapshot> | undefined;
  private generation = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly db: Database,
    bus: ChangeBus,
    private readonly ttlMs: number,
  ) {
    this.unsubscribe = bus.subscribe((e) => {
      if (e.kind === 'resync' || (e.kind === 'flag' && !this.holds(e.key, e.version))) this.invalidate();
    });
  }

  async get(): Promise<ConfigSnapshot> {
    const snap = this.snapshot;
    if (snap && Date.now() - snap.loadedAt < this.ttlMs) return snap;
    return this.load();
  }

  /** The snapshot if it is loaded and within its TTL, else undefined (never loads). */
  fresh(): ConfigSnapshot | undefined {
    const snap = this.snapshot;
    return snap && Date.now() - snap.loadedAt < this.ttlMs ? snap : undefined;
  }

  /**
   * Whether the loaded snapshot already has `key` at `version` or newer. The writing replica
   * hears its own change twice (emitLocal, then its NOTIFY) and has usually reloaded in
   * between: that snapshot stays.
   */
  private holds(key: string, version: number): boolean {
    const held = this.snapshot?.flags.get(key)?.version;
    return held !== undefined && held >= version;
  }

  invalidate(): void {
    this.generation++;
    this.snapshot = undefined;
    this.loading = undefined;
  }

  close(): void {
    this.unsubscribe();
  }

  private load(): Promise<ConfigSnapshot> {
    if (this.loading) return this.loading;
    const generation = this.generation;
    const loading = listFlags(this.db).then((rows) => {
      const snap = toSnapshot(rows);
      // A load that raced with a change must not install the old config over the new one.
      if (generation === this.generation) this.snapshot = snap;
      return snap;
    });
    this.loading = loading;
    loading.then(
      () => {
        if (this.loading === loading) this.loading = undefined;
      },
      () => {
        if (this.loading === loading) this.loading = undefined;
      },
    );
    return loading;
  }
}

function toSnapshot(rows: FlagRecord[]): ConfigSnapshot {
  const flags = new Map<string, EvaluableFlag>();
  for (const r of rows) {
    flags.set(
      r.key,
      Object.freeze({
        key: r.key,
        enabled: r.enabled,
        rolloutBasisPoints: r.rolloutBasisPoints,
        allowlist: Object.freeze([...r.allowlist]),
        salt: r.salt,
        stickiness: r.stickiness,
        version: r.version,
      }),
    );
  }
  const etag = `"${rows.length}-${checksum(rows)}"`;
  return { flags, etag, loadedAt: Date.now() };
}

/** A short, order-stable digest of key@version pairs (FNV-1a). */
function checksum(rows: FlagRecord[]): string {
  let h = 0x811c9dc5;
  for (const r of rows) {
    const s = `${r.key}@${r.version};`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16);
}
