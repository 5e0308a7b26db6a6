import type { Cohort } from '@rampart/core';
import { appendAudit, type ChangeContext } from '../audit/store.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { CLOSED_POLICY, requireAllowedTarget, type TargetPolicy } from '../outbound/target-policy.js';
import { createPrometheusClient, type PrometheusResult } from './client.js';
import {
  deleteDefinition,
  getDefinition,
  insertDefinition,
  listDefinitions,
  replaceDefinition,
  stateOf,
  type MetricDefinition,
  type MetricDefinitionState,
} from './store.js';
import { checkTemplate, placeholdersOf, renderTemplate, TemplateError } from './template.js';

export interface MetricQueryParams {
  /** The value for `{{flag}}`: usually a flag key, escaped as a PromQL label value. */
  readonly flag: string;
  readonly cohort: Cohort;
  readonly windowSeconds: number;
  readonly baselineOffsetSeconds?: number | undefined;
  /** Evaluation time of the instant query; default now. */
  readonly at?: Date | undefined;
}

/** The result plus the PromQL that ran (null when the template could not be rendered). */
export type MetricQueryResult = PrometheusResult & { readonly promql: string | null };

export interface MetricSourceOptions {
  /** RAMPART_PROMETHEUS_URL: used by definitions without a URL of their own. */
  readonly defaultPrometheusUrl?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /**
   * Where a definition's own prometheusUrl may point; default: no private addresses. The
   * deployer's RAMPART_PROMETHEUS_URL (and URLs on its origin) are trusted as configured.
   */
  readonly targets?: TargetPolicy | undefined;
}

/**
 * The policy for requests to `url`: none for the deployer's own Prometheus, whose origin an
 * OPERATOR cannot choose (it is typically an internal address, which is the point of it).
 */
function policyFor(url: string, options: MetricSourceOptions): TargetPolicy | undefined {
  const trusted = options.defaultPrometheusUrl;
  if (trusted && new URL(trusted).origin === new URL(url).origin) return undefined;
  return options.targets ?? CLOSED_POLICY;
}

type QueryableDefinition = Pick<MetricDefinition, 'queryTemplate' | 'prometheusUrl'>;

/**
 * Renders a definition's template and runs it. Never throws: whatever goes wrong (no URL, a
 * template the database holds but should not, Prometheus down or refusing the query) comes
 * back as `missing` with a reason, which the watchdog counts as an error, never as a zero.
 */
export async function queryDefinition(
  definition: QueryableDefinition,
  params: MetricQueryParams,
  options: MetricSourceOptions = {},
): Promise<MetricQueryResult> {
  const url = definition.prometheusUrl ?? options.defaultPrometheusUrl;
  let promql: string;
  try {
    promql = renderTemplate(definition.queryTemplate, params);
  } catch (err) {
    return { status: 'missing', reason: (err as Error).message, promql: null };
  }
  if (!url) return { status: 'missing', reason: NO_URL, promql };
  try {
    const client = createPrometheusClient({ url, timeoutMs: options.timeoutMs, policy: policyFor(url, options) });
    return { ...(await client.query(promql, params.at)), promql };
  } catch (err) {
    return { status: 'missing', reason: `Cannot query ${url}: ${(err as Error).message}`, promql };
  }
}

const NO_URL = 'No Prometheus to ask: set RAMPART_PROMETHEUS_URL or give the definition a prometheusUrl.';

export interface PutDefinitionInput {
  kind: MetricDefinitionState['kind'];
  source: MetricDefinitionState['source'];
  query: string;
  prometheusUrl?: string | undefined;
  description?: string | undefined;
}

export interface PutResult {
  definition: MetricDefinition;
  created: boolean;
  /** False when the definition already was exactly this: nothing written, no audit event. */
  changed: boolean;
}

/** Audit snapshots carry the version, as flag snapshots do. */
const snapshot = (d: MetricDefinition) => ({ name: d.name, ...stateOf(d), version: d.version });

function sameState(a: MetricDefinitionState, b: MetricDefinitionState): boolean {
  return (Object.keys(a) as Array<keyof MetricDefinitionState>).every((k) => a[k] === b[k]);
}

export function createMetricDefinitionService(db: Database, options: MetricSourceOptions = {}) {
  function notFound(name: string): AppError {
    return new AppError('METRIC_DEFINITION_NOT_FOUND', `No metric definition named ${name}.`);
  }

  async function get(name: string): Promise<MetricDefinition> {
    const definition = await getDefinition(db, name);
    if (!definition) throw notFound(name);
    return definition;
  }

  return {
    list: () => listDefinitions(db),
    get,

    /** Creates or replaces a definition; the template is checked before anything is written. */
    async put(ctx: ChangeContext, name: string, input: PutDefinitionInput): Promise<PutResult> {
      const problems = checkTemplate(input.query);
      if (problems.length > 0) throw new AppError('INVALID_QUERY_TEMPLATE', new TemplateError(problems).message, problems);
      const state: MetricDefinitionState = {
        kind: input.kind,
        source: input.source,
        queryTemplate: input.query,
        prometheusUrl: input.prometheusUrl ?? null,
        description: input.description ?? '',
      };
      // Caught now rather than at the first checkpoint: the definition could never run here.
      if (!state.prometheusUrl && !options.defaultPrometheusUrl) throw new AppError('PROMETHEUS_NOT_CONFIGURED');
      if (state.prometheusUrl) {
        const policy = policyFor(state.prometheusUrl, options);
        if (policy) await requireAllowedTarget(state.prometheusUrl, policy, 'body.prometheusUrl');
      }
      return db.transaction(async (tx) => {
        // Two PUTs of one new name would both miss the row lock; the advisory lock orders them.
        await tx.query(`select pg_advisory_xact_lock(hashtext('rampart:metric_definition:' || $1))`, [name]);
        const before = await getDefinition(tx, name, true);
        if (before && sameState(stateOf(before), state)) return { definition: before, created: false, changed: false };
        const after = before
          ? await replaceDefinition(tx, name, state, ctx.actor.name)
          : await insertDefinition(tx, name, state, ctx.actor.name);
        await appendAudit(tx, ctx, {
          action: 'metric_definition.put',
          flagKey: null,
          target: name,
          before: before ? snapshot(before) : null,
          after: snapshot(after),
        });
        return { definition: after, created: !before, changed: true };
      });
    },

    async remove(ctx: ChangeContext, name: string): Promise<MetricDefinition> {
      return db.transaction(async (tx) => {
        const before = await getDefinition(tx, name, true);
        if (!before) throw notFound(name);
        await deleteDefinition(tx, name);
        await appendAudit(tx, ctx, { action: 'metric_definition.delete', flagKey: null, target: name, before: snapshot(before) });
        return before;
      });
    },

    /**
     * The API's query: unlike `queryDefinition`, a request that cannot be answered here (no such
     * definition, no Prometheus configured, a missing offset) is the caller's error, a 4xx.
     * Whatever Prometheus says is data: `ok` or `missing`.
     */
    async query(name: string, params: MetricQueryParams): Promise<MetricQueryResult> {
      const definition = await get(name);
      if (!definition.prometheusUrl && !options.defaultPrometheusUrl) throw new AppError('PROMETHEUS_NOT_CONFIGURED');
      if (placeholdersOf(definition.queryTemplate).includes('baseline_offset') && params.baselineOffsetSeconds === undefined) {
        throw new AppError('VALIDATION_ERROR', 'This query uses {{baseline_offset}}: send baselineOffsetSeconds.', [
          { path: 'body.baselineOffsetSeconds', message: 'required by this definition' },
        ]);
      }
      return queryDefinition(definition, params, options);
    },
  };
}

export type MetricDefinitionService = ReturnType<typeof createMetricDefinitionService>;
