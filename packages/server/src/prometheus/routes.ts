import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../db/database.js';
import type { TargetPolicy } from '../outbound/target-policy.js';
import { changeContext } from '../http/context.js';
import { errorResponses } from '../http/schemas.js';
import {
  DefinitionListResponse,
  DefinitionResponse,
  DeleteDefinitionBody,
  NameParams,
  PutDefinitionBody,
  PutResponse,
  QueryBody,
  QueryResponse,
  definitionJson,
  queryJson,
} from './schemas.js';
import { createMetricDefinitionService } from './service.js';

const tags = ['metric-definitions'];
const BASE = '/api/admin/metric-definitions';

/** Metric definitions read from Prometheus; `defaultPrometheusUrl` is RAMPART_PROMETHEUS_URL. */
export function metricDefinitionRoutes(db: Database, defaultPrometheusUrl: string | undefined, targets: TargetPolicy): FastifyPluginAsyncZod {
  const definitions = createMetricDefinitionService(db, { defaultPrometheusUrl, targets });
  return async (app) => {
    app.get(BASE, {
      config: { access: 'viewer' },
      schema: { tags, summary: 'List metric definitions', response: { 200: DefinitionListResponse, ...errorResponses } },
      handler: async () => {
        const list = await definitions.list();
        return { definitions: list.map(definitionJson), total: list.length };
      },
    });

    app.get(`${BASE}/:name`, {
      config: { access: 'viewer' },
      schema: { tags, summary: 'One metric definition', params: NameParams, response: { 200: DefinitionResponse, ...errorResponses } },
      handler: async (req) => definitionJson(await definitions.get(req.params.name)),
    });

    app.put(`${BASE}/:name`, {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Create or replace a metric definition (201 when created)',
        description:
          'The template is checked when saved: an unknown placeholder is a 400 INVALID_QUERY_TEMPLATE and nothing is written. A prometheusUrl whose host is or resolves to a private, loopback or link-local address is a 400 TARGET_NOT_ALLOWED (unless it is on the origin of RAMPART_PROMETHEUS_URL, or allowed by RAMPART_ALLOW_PRIVATE_TARGETS or RAMPART_ALLOWED_TARGET_NETWORKS).',
        params: NameParams,
        body: PutDefinitionBody,
        response: { 200: PutResponse, 201: PutResponse, ...errorResponses },
      },
      handler: async (req, reply) => {
        const { reason, prometheusUrl, ...rest } = req.body;
        const r = await definitions.put(changeContext(req, reason), req.params.name, { ...rest, prometheusUrl: prometheusUrl ?? undefined });
        if (r.created) reply.header('location', `${BASE}/${r.definition.name}`).code(201);
        return { ...definitionJson(r.definition), changed: r.changed };
      },
    });

    app.delete(`${BASE}/:name`, {
      config: { access: 'operator' },
      schema: {
        tags,
        summary: 'Delete a metric definition; returns it as it was',
        params: NameParams,
        body: DeleteDefinitionBody,
        response: { 200: DefinitionResponse, ...errorResponses },
      },
      handler: async (req) => definitionJson(await definitions.remove(changeContext(req, req.body?.reason), req.params.name)),
    });

    app.post(`${BASE}/:name/query`, {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Render the template for a flag, cohort and window and run it on Prometheus',
        description:
          'Whatever Prometheus answers is a 200: `ok` with the value, or `missing` with the reason (unreachable, query refused, no series, NaN). Missing data is never 0.',
        params: NameParams,
        body: QueryBody,
        response: { 200: QueryResponse, ...errorResponses },
      },
      handler: async (req) => {
        const { at, ...params } = req.body;
        return queryJson(await definitions.query(req.params.name, { ...params, at: at === undefined ? undefined : new Date(at) }));
      },
    });
  };
}
