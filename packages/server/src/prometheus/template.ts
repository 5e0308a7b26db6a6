/**
 * PromQL templates: a query with `{{flag}}`, `{{cohort}}`, `{{window}}` and optionally
 * `{{baseline_offset}}` filled in per checkpoint, e.g.
 *
 *   sum(rate(http_requests_total{flag="{{flag}}",cohort="{{cohort}}",code=~"5.."}[{{window}}]))
 *
 * `{{flag}}` and `{{cohort}}` are label values: they are escaped for a double-quoted PromQL
 * string, so write them between double quotes. `{{window}}` and `{{baseline_offset}}` are
 * durations (`5m`, `1h`, `6h`) for a range selector or an `offset`.
 */

export const PLACEHOLDERS = ['flag', 'cohort', 'window', 'baseline_offset'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export interface TemplateVars {
  readonly flag: string;
  readonly cohort: string;
  readonly windowSeconds: number;
  readonly baselineOffsetSeconds?: number | undefined;
}

/** Why a template cannot be used; the message names the offending text. */
export interface TemplateProblem {
  readonly message: string;
  readonly placeholder?: string;
}

// Whitespace inside the braces is tolerated (`{{ flag }}`), as in most template languages.
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const KNOWN = new Set<string>(PLACEHOLDERS);

/** The placeholders a template uses, each once, in order of first use. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * Checks a template when it is saved, so a typo (`{{cohrot}}`, `{{flag}`) is refused then and
 * there rather than found by a failing checkpoint at 3 a.m. Returns no problems when usable.
 */
export function checkTemplate(template: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  if (template.trim() === '') problems.push({ message: 'The query is empty.' });
  for (const name of placeholdersOf(template)) {
    if (!KNOWN.has(name)) {
      problems.push({
        message: `Unknown placeholder {{${name}}}; use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}.`,
        placeholder: name,
      });
    }
  }
  // PromQL never contains "{{", so one left after the placeholders is a broken placeholder.
  const rest = template.replace(PLACEHOLDER, '');
  const broken = rest.indexOf('{{');
  if (broken >= 0) {
    problems.push({ message: `Unterminated placeholder near "${rest.slice(broken, broken + 24)}"; write {{name}}.` });
  }
  return problems;
}

export class TemplateError extends Error {
  constructor(readonly problems: readonly TemplateProblem[]) {
    super(problems.map((p) => p.message).join(' '));
    this.name = 'TemplateError';
  }
}

/** Escapes a value for a double-quoted PromQL string literal. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n\r]/g, (c) => ESCAPES[c]!);
}
const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r' };

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 604_800],
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/**
 * A whole number of seconds as a Prometheus duration in its largest exact unit: 300 → `5m`,
 * 21600 → `6h`, 90 → `90s`. One unit only, which every Prometheus version parses.
 */
export function promDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`A duration needs a positive whole number of seconds, not ${seconds}.`);
  const [unit, size] = UNITS.find(([, s]) => seconds % s === 0)!;
  return `${seconds / size}${unit}`;
}

/**
 * Fills in a template. Throws a TemplateError for an unusable template, or when it uses
 * `{{baseline_offset}}` and no offset was given.
 */
export function renderTemplate(template: string, vars: TemplateVars): string {
  const problems = checkTemplate(template);
  if (problems.length > 0) throw new TemplateError(problems);
  if (placeholdersOf(template).includes('baseline_offset') && vars.baselineOffsetSeconds === undefined) {
    throw new TemplateError([{ message: 'The query uses {{baseline_offset}}: give a baseline offset.', placeholder: 'baseline_offset' }]);
  }
  const values: Record<Placeholder, () => string> = {
    flag: () => escapeLabelValue(vars.flag),
    cohort: () => escapeLabelValue(vars.cohort),
    window: () => promDuration(vars.windowSeconds),
    baseline_offset: () => promDuration(vars.baselineOffsetSeconds!),
  };
  return template.replace(PLACEHOLDER, (_m, name: string) => values[name as Placeholder]());
}
