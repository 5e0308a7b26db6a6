// The watchdog's judge: a pure function from one checkpoint's measurements to a verdict
// (design §6.4–6.5). See judge.ts for the error budget, msprt.ts for the sequential test.
export { judge } from './judge.js';
export { DEFAULT_THRESHOLDS, directionOf } from './thresholds.js';
export { chiSquare1Sf, erfc, normalCdf } from './special.js';
export { binomialMixtureLogE, compareRatesLogE, pFromLogE, rateRatioInterval } from './msprt.js';
export { checkSampleRatio } from './srm.js';
export type {
  Alert,
  AlertCode,
  CohortPair,
  Direction,
  JudgeInput,
  JudgeResult,
  Levels,
  MetricJudgement,
  MetricOverride,
  Outcome,
  PercentileRule,
  RateRule,
  Severity,
  SrmResult,
  Thresholds,
} from './types.js';
