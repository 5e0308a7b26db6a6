// What the demo sets up in Rampart (the runbook's flag, its Phase 2 plan, the regression
// switches) and the narrator that tells, on the console, what the watchdog and the plan do.

export const FLAG = 'passenger_favorites_matching';
/** RUNBOOK_passenger_favorites_matching.md's beta group. */
export const BETA_IDS = Array.from({ length: 10 }, (_, i) => `pass_beta_${String(i + 1).padStart(3, '0')}_2026`);
export const REGRESSION_FLAGS = { errors: 'demo_regression_5xx', latency: 'demo_regression_latency' };
export const FAILURE_RATE = 0.03;
export const LATENCY_FACTOR = 1.4;

/**
 * The runbook's ramp after the Phase 1 go/no-go (runbook-5-phase's stages 2–7, the steps of
 * BETA_PHASE2_ROLLOUT_GRADUAL): 1 → 5 → 10 → 25 → 50 % (approval to go on) → 100 %. Each
 * stage dwells 90 demo minutes, so with hourly checkpoints a healthy stage is decided on its
 * second checkpoint (the plan also wants the checkpoint before to have passed): a new stage
 * every two demo hours.
 */
export const DEMO_STAGES = [
  { percentage: 1, minDwellMinutes: 90, minSample: 300, gate: 'auto' },
  { percentage: 5, minDwellMinutes: 90, minSample: 1000, gate: 'auto' },
  { percentage: 10, minDwellMinutes: 90, minSample: 1000, gate: 'auto' },
  { percentage: 25, minDwellMinutes: 90, minSample: 1000, gate: 'auto' },
  { percentage: 50, minDwellMinutes: 90, minSample: 1000, gate: 'approval' },
  { percentage: 100, minDwellMinutes: 0, minSample: 0, gate: 'auto' },
];

/**
 * Laptop-scale traffic (a thousand requests a second, not a city's): a metric may pass once a
 * regression at its floor would have shown 3 events in the exposed cohort (default 20), and a
 * comparison with control may FAIL from 1 000 exposed requests (default 5 000). Everything else
 * is the watchdog's defaults. The reports print the rules in force.
 */
export const DEMO_THRESHOLDS = { minEvents: 3, minSampleForComparativeFail: 1000 };

/** Saved as a plan template, so the operator can start the demo's plan again (UI or CLI). */
export const DEMO_TEMPLATE = 'demo-phase-2';

/** Creates the flags, the watchdog settings and the plan template; the plan starts later (`startPlan`). */
export async function setUpFlags(api, { speedText, stages = DEMO_STAGES }) {
  await api('PUT', `/api/admin/plan-templates/${DEMO_TEMPLATE}`, {
    description: `DEMO (${speedText}): the runbook's Phase 2 ramp (BETA_PHASE2_ROLLOUT_GRADUAL) — ${stages.map((s) => `${s.percentage} %`).join(' → ')}, 90 demo minutes a stage, hourly checkpoints; roll back to 0 % (allowlist kept)`,
    stages,
    cadence: '0 * * * *',
    rollbackPolicy: 'zero',
    reason: 'DEMO: the plan npm run demo starts',
  });
  await api('POST', '/api/admin/feature-flags', {
    key: FLAG,
    description: `DEMO (${speedText}): favorites-aware driver matching — the runbook's Phase 2 ramp, guarded by the watchdog`,
    enabled: true,
    rolloutPercentage: 0,
    allowlist: BETA_IDS,
    reason: 'Phase 1 beta: allowlist only (RUNBOOK_passenger_favorites_matching)',
  });
  await api('PUT', `/api/admin/beta-monitor/${FLAG}/settings`, {
    thresholds: DEMO_THRESHOLDS,
    reason: `DEMO: laptop-scale traffic — minEvents ${DEMO_THRESHOLDS.minEvents}, minSampleForComparativeFail ${DEMO_THRESHOLDS.minSampleForComparativeFail}`,
  });
  const switches = [
    [REGRESSION_FLAGS.errors, `DEMO: turn ON to make the treatment cohort of ${FLAG} fail ${Math.round(FAILURE_RATE * 100)} % of requests (HTTP 503)`],
    [REGRESSION_FLAGS.latency, `DEMO: turn ON to make the treatment cohort of ${FLAG} ${Math.round((LATENCY_FACTOR - 1) * 100)} % slower`],
  ];
  for (const [key, description] of switches) {
    // Off by its kill switch, at 100 %: "enable" turns it on for everyone.
    await api('POST', '/api/admin/feature-flags', { key, description, enabled: false, rolloutPercentage: 100, reason: 'DEMO: a switch to break the service on purpose' });
    // A switch, not a rollout: the watchdog has nothing to judge there.
    await api('PUT', `/api/admin/beta-monitor/${key}/settings`, { schedule: 'off', reason: 'DEMO: a switch, not a rollout' });
  }
}

/** `--stages 25,50,100`: other percentages, each an auto stage of 90 demo minutes (the last: none). */
export function parseStages(text) {
  const pcts = text.split(',').map((s) => Number(s.trim()));
  if (pcts.length === 0 || pcts.some((p) => !(p >= 0 && p <= 100))) throw new Error(`--stages: percentages between 0 and 100, e.g. 25,50,100 (got "${text}")`);
  return pcts.map((percentage, i) => ({ percentage, minDwellMinutes: i === pcts.length - 1 ? 0 : 90, minSample: i === pcts.length - 1 ? 0 : 300, gate: 'auto' }));
}

export async function startPlan(api, { speedText, stages = DEMO_STAGES }) {
  return api('POST', `/api/admin/rollouts/${FLAG}`, {
    template: DEMO_TEMPLATE,
    reason: `DEMO: ${speedText} — Phase 2 (BETA_PHASE2_ROLLOUT_GRADUAL): ${stages.map((s) => s.percentage).join(' → ')} %, hourly checkpoints, roll back to 0 % (allowlist kept)`,
  });
}

const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)} %`);
const int = (n) => (n ?? 0).toLocaleString('en-US');

/** "1 min 42 s". */
export function realDuration(ms) {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/**
 * Follows the flag's plan and checkpoints through the admin API (as a VIEWER) and prints one
 * line per event. `onRollback` is told once the watchdog has rolled the plan back.
 */
export function createNarrator({ api, clock, print, url, operatorToken }) {
  const seen = new Set();
  let lastPlan;
  let regressionOnAt;
  let regressionName;
  let rps = 0;
  let timer;
  let busy = false;
  const demoTime = (t) => new Date(t).toISOString().slice(11, 16);

  function stageText(plan) {
    const s = plan.stages[plan.currentStage];
    return `stage ${plan.currentStage + 1}/${plan.stages.length}: ${s.percentage} %${s.gate === 'approval' ? ' (approval gate)' : ''}`;
  }

  async function onCheckpoint(summary) {
    const cp = await api('GET', `/api/admin/beta-monitor/checkpoints/${summary.id}`);
    const stage = cp.metrics?.stage ?? {};
    const e = stage.exposed ?? {};
    const c = stage.control ?? {};
    print(
      `checkpoint ${cp.id} (demo ${demoTime(cp.scheduledFor ?? clock.now())})  ${cp.status} · ${cp.health} · ${cp.decision}` +
        `   stage so far: exposed ${int(e.requests)} req, 5xx ${pct(e.errorRate5xx)} | control ${int(c.requests)} req, 5xx ${pct(c.errorRate5xx)}` +
        (rps ? ` · traffic ${int(rps)} req/s` : ''),
    );
    for (const a of cp.alerts.slice(0, 3)) print(`    ${a.severity === 'FAIL' ? '✖' : '⚠'} ${a.code}: ${a.message}`);
  }

  function onPlan(plan, history) {
    const before = lastPlan;
    const ended = !plan ? history[0] : undefined;
    if (plan && (!before || before.id !== plan.id)) {
      print(`plan ${plan.id} started — ${stageText(plan)} (rollback policy: ${plan.rollbackPolicy})`);
    } else if (plan && before && plan.currentStage !== before.currentStage) {
      print(`▶ the watchdog advanced the plan — ${stageText(plan)}: ${plan.stages[plan.currentStage].percentage} % of passengers now get favorites matching`);
    }
    if (plan?.awaitingApproval && !before?.awaitingApproval) {
      print(`⏸ ${stageText(plan)} passed; waiting for an OPERATOR: npx rampart plan approve ${FLAG} (or "Approve" in the UI)`);
    }
    if (ended && before && ended.id === before.id) {
      if (ended.state === 'rolled_back') {
        const rolledAtReal = clock.realStart + (Date.parse(ended.endedAt) - clock.demoStart) / clock.speed;
        const caught = regressionOnAt ? ` — ${realDuration(rolledAtReal - regressionOnAt)} after ${regressionName} was turned ON` : '';
        print(`✖ ROLLED BACK by ${ended.updatedBy} under policy "${ended.rollbackPolicy}"${caught}`);
        print(`    reason: ${ended.rollbackReason}`);
        void explainRollback(ended);
      } else {
        print(`plan ${ended.id} ended: ${ended.state}`);
      }
    }
    lastPlan = plan ?? undefined;
  }

  async function explainRollback(plan) {
    const flag = await api('GET', `/api/admin/feature-flags/${FLAG}`);
    print(`    ${FLAG} is now enabled=${flag.enabled}, rollout=${flag.rolloutBasisPoints / 100} %, allowlist=${flag.allowlistCount ?? flag.allowlist?.length} (the beta group keeps it)`);
    const cpId = /checkpoint (cp_[\w-]+)/.exec(plan.rollbackReason ?? '')?.[1] ?? /\(latest (cp_[\w-]+)\)/.exec(plan.rollbackReason ?? '')?.[1];
    print(`    the report: ${url}/admin/beta-monitor/${FLAG}  or  RAMPART_URL=${url} RAMPART_TOKEN=${operatorToken} npx rampart monitor report ${cpId ?? '<checkpoint id>'}`);
    print(`    try again: turn ${regressionName ?? REGRESSION_FLAGS.errors} OFF (npx rampart flags disable ${regressionName ?? REGRESSION_FLAGS.errors}), then start the plan again:`);
    print(`    UI "Start plan" with template ${DEMO_TEMPLATE}, or npx rampart plan start ${FLAG} --template ${DEMO_TEMPLATE}. Ctrl-C stops the demo.`);
  }

  async function poll() {
    if (busy) return;
    busy = true;
    try {
      const { plan, history } = await api('GET', `/api/admin/rollouts/${FLAG}`);
      const { checkpoints } = await api('GET', `/api/admin/beta-monitor/${FLAG}/checkpoints?limit=10`);
      for (const cp of checkpoints.slice().reverse()) {
        if (seen.has(cp.id) || cp.status === 'MISSED') continue;
        seen.add(cp.id);
        await onCheckpoint(cp);
      }
      onPlan(plan, history);
    } catch (err) {
      print(`(narrator: ${err.message})`);
    } finally {
      busy = false;
    }
  }

  return {
    start(everyMs = 500) {
      timer = setInterval(() => void poll(), everyMs);
    },
    stop() {
      clearInterval(timer);
    },
    /** Requests the traffic generator sent in the last second. */
    traffic(nextRps) {
      rps = nextRps;
    },
    regression(which, flag, on) {
      if (on) {
        regressionOnAt = Date.now();
        regressionName = flag;
        print(
          which === 'errors'
            ? `⚡ ${flag} is ON: the treatment (exposed) cohort now fails ${Math.round(FAILURE_RATE * 100)} % of match requests with HTTP 503. Watch the next checkpoints.`
            : `⚡ ${flag} is ON: the treatment (exposed) cohort is now ${Math.round((LATENCY_FACTOR - 1) * 100)} % slower. Watch the next checkpoints.`,
        );
      } else {
        if (regressionName === flag) regressionOnAt = undefined;
        print(`${flag} is OFF: the service is healthy again.`);
      }
    },
  };
}
