/** A small typed event emitter that runs the same in Node and browsers. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, fn: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => this.off(event, fn);
  }

  off<K extends keyof Events>(event: K, fn: (payload: Events[K]) => void): void {
    this.listeners.get(event)?.delete(fn as (payload: never) => void);
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    // `evaluation` is emitted on every flag check: without listeners it must cost nothing.
    if (!set || set.size === 0) return;
    for (const fn of set) {
      // A listener's bug must not break the SDK (or the other listeners).
      try {
        (fn as (p: Events[K]) => void)(payload);
      } catch {
        /* swallowed on purpose */
      }
    }
  }
}
