import type { Queryable } from '../db/database.js';

export type MetricKind = 'rate' | 'distribution' | 'counter' | 'gauge';
export const METRIC_KINDS: readonly MetricKind[] = ['rate', 'distribution', 'counter', 'gauge'];
export type MetricSource = 'prometheus';

/** What a PUT sets; what the audit trail records before and after. */
export interface MetricDefinitionState {
  kind: MetricKind;
  source: MetricSource;
  queryTemplate: string;
  /** null: the server's default Prometheus (RAMPART_PROMETHEUS_URL). */
  prometheusUrl: string | null;
  description: string;
}

export interface MetricDefinition extends MetricDefinitionState {
  name: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string | null;
}

const COLUMNS = `name, kind, source, query_template as "queryTemplate", prometheus_url as "prometheusUrl",
  description, version, created_at as "createdAt", updated_at as "updatedAt", updated_by as "updatedBy"`;

export async function getDefinition(q: Queryable, name: string, forUpdate = false): Promise<MetricDefinition | undefined> {
  const lock = forUpdate ? ' for update' : '';
  return (await q.query<MetricDefinition>(`select ${COLUMNS} from metric_definitions where name = $1${lock}`, [name]))[0];
}

export async function listDefinitions(q: Queryable): Promise<MetricDefinition[]> {
  return q.query<MetricDefinition>(`select ${COLUMNS} from metric_definitions order by name`);
}

export async function insertDefinition(q: Queryable, name: string, s: MetricDefinitionState, actor: string): Promise<MetricDefinition> {
  const rows = await q.query<MetricDefinition>(
    `insert into metric_definitions (name, kind, source, query_template, prometheus_url, description, updated_by)
     values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
    [name, s.kind, s.source, s.queryTemplate, s.prometheusUrl, s.description, actor],
  );
  return rows[0]!;
}

/** Replaces every field and bumps the version. */
export async function replaceDefinition(q: Queryable, name: string, s: MetricDefinitionState, actor: string): Promise<MetricDefinition> {
  const rows = await q.query<MetricDefinition>(
    `update metric_definitions set kind = $2, source = $3, query_template = $4, prometheus_url = $5,
       description = $6, updated_by = $7, version = version + 1, updated_at = now()
     where name = $1 returning ${COLUMNS}`,
    [name, s.kind, s.source, s.queryTemplate, s.prometheusUrl, s.description, actor],
  );
  return rows[0]!;
}

export async function deleteDefinition(q: Queryable, name: string): Promise<void> {
  await q.query('delete from metric_definitions where name = $1', [name]);
}

export function stateOf(d: MetricDefinition): MetricDefinitionState {
  return {
    kind: d.kind,
    source: d.source,
    queryTemplate: d.queryTemplate,
    prometheusUrl: d.prometheusUrl,
    description: d.description,
  };
}
