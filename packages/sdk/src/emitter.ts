/** A small typed event emitter that runs the same in Node and browsers. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, fn: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (payload: never) => void);
    this.listenersChanged(event, set.size);
    return () => this.off(event, fn);
  }

  off<K extends keyof Events>(event: K, fn: (payload: Events[K]) => void): void {
    const set = this.listeners.get(event);
    if (!set?.delete(fn as (payload: never) => void)) return;
    this.listenersChanged(event, set.size);
  }

  /** Called after a listener was added or removed, with how many `event` now has. */
  protected listenersChanged(_event: keyof Events, _count: number): void {
    // A hook for subclasses that skip work nobody listens to.
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
