// What the benchmarks read about a process from Linux's /proc.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** CPU time (user + system, µs) a process has used so far; NaN where /proc is missing. */
export function cpuMicros(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process in bytes; NaN where /proc is missing. */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Pins a running process, all its threads, to one CPU core with `taskset`; false where that is
 * not possible (no taskset, one core). On a 2-core machine, where the scheduler puts the
 * processes of a benchmark moves its tail by tens of percent from run to run.
 */
export function pinToCore(pid, core) {
  if (os.cpus().length <= core) return false;
  try {
    execFileSync('taskset', ['-a', '-pc', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
