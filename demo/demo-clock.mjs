// The demo's accelerated clock: `speed` demo milliseconds pass per real millisecond (60: one
// real minute is one hour). Rampart's watchdog, its plans and its metric windows read it
// (buildApp's `clock`), and so does the SDK of the simulated service (its `now` option), so the
// per-minute aggregates land in the demo's minutes and the hourly checkpoints come every real
// minute.
//
// The clock is a pure function of the wall clock and three numbers, so the worker threads
// rebuild the very same clock from `describeClock()`.

const HOUR = 3_600_000;

/**
 * Where demo time starts: `hoursBack` hours before the current hour began, on the hour. Behind the
 * wall clock, so the admin UI's charts (whose windows end at the browser's "now") show the demo's
 * data: in the 6 h window until demo time catches up with the wall clock (about five real
 * minutes at ×60), in the 24 h window for long after. On the hour, so the first hourly
 * checkpoint of a stage falls a full demo hour after it starts.
 */
export function demoEpoch(realNow = Date.now(), hoursBack = 5) {
  return Math.floor(realNow / HOUR) * HOUR - hoursBack * HOUR;
}

/**
 * @param {{ speed: number, demoStart: number, realStart?: number }} opts
 */
export function createDemoClock({ speed, demoStart, realStart = Date.now() }) {
  if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`);
  const now = () => demoStart + (Date.now() - realStart) * speed;
  return {
    now,
    speed,
    demoStart,
    realStart,
    /** Real milliseconds until the demo clock reads `demoTime`. */
    realMsUntil: (demoTime) => Math.max(0, (demoTime - now()) / speed),
    /** What to hand a worker so it can rebuild this clock. */
    describe: () => ({ speed, demoStart, realStart }),
  };
}

/** "1 min = 1 h" (speed 60), "10 s = 1 h" (speed 360). */
export function speedLabel(speed) {
  const realSecondsPerHour = 3600 / speed;
  if (realSecondsPerHour >= 60 && Number.isInteger(realSecondsPerHour / 60)) return `${realSecondsPerHour / 60} min = 1 h`;
  return `${Number(realSecondsPerHour.toFixed(1))} s = 1 h`;
}
