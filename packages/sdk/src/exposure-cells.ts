import type { Cohort } from '@rampart/core';
import type { Aggregate } from './reporter.js';

const MINUTE = 60_000;

export function minuteOf(at: number): number {
  return at - (at % MINUTE);
}

/**
 * The current minute's exposure aggregates of one flag, one slot per cohort (null until the
 * first exposure of that cohort in the minute). The client keeps it next to the flag, so
 * counting an exposure is an increment, with no key built and no lookup; when the minute ends
 * (or everything is flushed) the reporter marks it dead and the client asks for the new one.
 */
export class ExposureCells {
  live = true;
  /** exposed, control, allowlist, off (see `cohortSlot`). */
  readonly slots: (Aggregate | null)[] = [null, null, null, null];

  constructor(readonly flag: string) {}

  /**
   * Counts one exposure of `cohort` if its aggregate is open; false when it is not (the first
   * exposure of the cohort in the minute): then the caller goes through `exposure()`.
   */
  count(cohort: Cohort): boolean {
    const a = this.slots[cohortSlot(cohort)];
    if (a == null) return false;
    a.count++;
    return true;
  }
}

export function cohortSlot(cohort: Cohort): number {
  switch (cohort) {
    case 'exposed':
      return 0;
    case 'control':
      return 1;
    case 'allowlist':
      return 2;
    default:
      return 3;
  }
}

/**
 * The reporter's current minute and the exposure cells of that minute, advanced by an unref'd
 * timer at each minute boundary when `ticking`. Kept apart from the reporter on purpose: Node
 * keeps a cleared timer's callback reachable for a while (until its list is next processed),
 * and a callback closing over the reporter kept a closed client alive (25 MiB for 10 000 flags
 * in bench/sdk-memory.mjs); this callback holds only this small object, emptied by `stop()`.
 */
export class MinuteClock {
  minute: number;
  cells = new Map<string, ExposureCells>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly now: () => number,
    ticking: boolean,
  ) {
    this.minute = minuteOf(now());
    if (ticking) this.arm();
  }

  cellsOf(flag: string): ExposureCells {
    let cells = this.cells.get(flag);
    if (cells === undefined) {
      cells = new ExposureCells(flag);
      this.cells.set(flag, cells);
    }
    return cells;
  }

  /** Moves to the clock's minute; the old minute's cells die. */
  advance(): void {
    const now = minuteOf(this.now());
    if (now === this.minute) return;
    this.minute = now;
    this.retire();
  }

  /** Every cell dies (its aggregate left `open`): counting starts in new ones. */
  retire(): void {
    for (const cells of this.cells.values()) cells.live = false;
    this.cells = new Map();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.retire();
  }

  private arm(): void {
    // +1 ms: fire just after the boundary, never just before it.
    this.timer = setTimeout(() => {
      this.advance();
      this.arm();
    }, MINUTE - (this.now() % MINUTE) + 1);
    (this.timer as { unref?: () => void }).unref?.();
  }
}
