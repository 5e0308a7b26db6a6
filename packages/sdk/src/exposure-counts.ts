import { COHORTS, type Cohort } from '@rampart/core';

const MINUTE = 60_000;

export function minuteOf(at: number): number {
  return at - (at % MINUTE);
}

/**
 * A flag's exposures of the current minute, one number per cohort slot (`COHORTS` order:
 * exposed, control, allowlist, off). The client keeps it next to the flag and counts into it
 * on every evaluation: one increment, no key built, no lookup, no branch on whether an
 * aggregate is open; the reporter folds the counts into per-minute aggregates before the
 * minute changes, on every flush, whenever its stats are read, and when the flag leaves the
 * config.
 */
export type ExposureCounts = Float64Array;

export function newExposureCounts(): ExposureCounts {
  return new Float64Array(COHORTS.length);
}

/** The index of a cohort in `COHORTS`, i.e. its slot in `ExposureCounts` (off the hot path). */
export function cohortSlot(cohort: Cohort): number {
  return COHORTS.indexOf(cohort);
}

/**
 * The reporter's current minute, and an unref'd timer that calls `onTick` at each minute
 * boundary when `ticking`. Kept apart from the reporter on purpose: Node keeps a cleared timer's
 * callback reachable for a while (until its list is next processed), and a callback closing
 * over the reporter kept a closed client alive (25 MiB for 10 000 flags in
 * bench/sdk-memory.mjs); this callback holds only this small object, and `stop()` drops
 * `onTick`, its one reference to the reporter.
 */
export class MinuteClock {
  minute: number;
  onTick: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly now: () => number,
    ticking: boolean,
    onTick: () => void,
  ) {
    this.minute = minuteOf(now());
    this.onTick = onTick;
    if (ticking) this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.onTick = undefined;
  }

  private arm(): void {
    // +1 ms: fire just after the boundary, never just before it.
    this.timer = setTimeout(() => {
      this.onTick?.();
      if (this.onTick) this.arm();
    }, MINUTE - (this.now() % MINUTE) + 1);
    (this.timer as { unref?: () => void }).unref?.();
  }
}
