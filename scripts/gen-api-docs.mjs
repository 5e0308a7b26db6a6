#!/usr/bin/env node
// Generates docs/api.md from the server's own OpenAPI document and route access policies.
//
//   npm run build && node scripts/gen-api-docs.mjs            # writes docs/api.md
//   node scripts/gen-api-docs.mjs --stdout                    # prints it instead
//
// The app is built in-process on a throwaway in-memory database (PGlite), as
// packages/server/test/support/app.ts does, so no server, port or network is involved. The
// role of each route comes from its `config.access` (read through a hook on the real route
// table), not from a hand-written list. Output is deterministic: sorted, no timestamps, no ports.
// packages/server/test/docs-generated.test.ts fails when docs/api.md is out of date.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const API_DOC_PATH = join(ROOT, 'docs', 'api.md');
const SERVER_DIST = join(ROOT, 'packages', 'server', 'dist');

const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ACCESS_LABEL = {
  public: 'none (public)',
  sdk: 'SDK (any token)',
  viewer: 'VIEWER',
  operator: 'OPERATOR',
  super_admin: 'SUPER_ADMIN',
};
const INTROSPECT_HEADER = 'x-rampart-docs-introspect';

/** Builds the app on an in-memory PGlite database; returns the OpenAPI document and each route's access. */
async function collect() {
  const server = await import(pathToFileURL(join(SERVER_DIST, 'index.js')).href);
  const { openPglite } = await import(pathToFileURL(join(SERVER_DIST, 'db', 'pglite.js')).href);
  const config = {
    ...server.loadConfig({ LOG_LEVEL: 'silent', RAMPART_WATCHDOG_SCHEDULE: 'false', RAMPART_SCHEDULE_INTERVAL_MS: '0' }),
    env: {},
  };
  const db = await openPglite();
  try {
    await server.migrate(db);
    const app = await server.buildApp(config, { db });
    // Answers a marked request with the matched route's policy before anything else runs.
    app.addHook('onRequest', async (req, reply) => {
      if (!req.headers[INTROSPECT_HEADER]) return;
      const c = req.routeOptions.config;
      return reply.code(299).send({ access: c.access ?? null, rateLimitClass: c.rateLimitClass ?? null, url: req.routeOptions.url ?? null });
    });
    await app.ready();
    try {
      const doc = app.swagger();
      const access = new Map();
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const method of Object.keys(ops)) {
          const url = path.replace(/\{[^}]+\}/g, 'x');
          const res = await app.inject({ method: method.toUpperCase(), url, headers: { [INTROSPECT_HEADER]: '1' } });
          access.set(`${method.toUpperCase()} ${path}`, res.statusCode === 299 ? res.json() : { access: null, rateLimitClass: null });
        }
      }
      return { doc, access };
    } finally {
      await app.close();
    }
  } finally {
    await db.close();
  }
}

const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function typeOf(schema) {
  if (!schema || typeof schema !== 'object') return 'any';
  if (schema.enum) return schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' \\| ');
  if (schema.type === 'array') return `${typeOf(schema.items)}[]`;
  if (Array.isArray(schema.type)) return schema.type.join(' \\| ');
  if (schema.type === 'object' && !schema.properties && schema.additionalProperties) return 'object (map)';
  return schema.type ?? 'any';
}

function constraints(schema) {
  if (!schema || typeof schema !== 'object') return '';
  const parts = [];
  const s = schema.type === 'array' && schema.items && typeof schema.items === 'object' ? { ...schema.items, minItems: schema.minItems, maxItems: schema.maxItems } : schema;
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER) parts.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined && s.minLength > 0) parts.push(`length ≥ ${s.minLength}`);
  if (s.maxLength !== undefined) parts.push(`length ≤ ${s.maxLength}`);
  if (s.minItems !== undefined && s.minItems > 0) parts.push(`≥ ${s.minItems} items`);
  if (s.maxItems !== undefined) parts.push(`≤ ${s.maxItems} items`);
  // The "no NUL character" pattern is on every text field; it says nothing useful here.
  if (s.pattern && s.pattern !== '^[^\\u0000]*$') parts.push(`\`${s.pattern}\``);
  if (s.format) parts.push(s.format);
  if (schema.default !== undefined) parts.push(`default \`${JSON.stringify(schema.default)}\``);
  return parts.join(', ');
}

function describe(schema) {
  if (!schema || typeof schema !== 'object') return '';
  return schema.description ?? schema.items?.description ?? '';
}

/** Flattens an object schema's properties (one level into nested objects and arrays of objects). */
function fieldRows(schema, prefix = '', depth = 0) {
  const rows = [];
  if (!schema || typeof schema !== 'object') return rows;
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name;
    rows.push(`| \`${esc(path)}\` | ${typeOf(prop)} | ${required.has(name) ? 'yes' : ''} | ${esc(constraints(prop))} | ${esc(describe(prop))} |`);
    if (depth < 1) {
      if (prop?.type === 'object' && prop.properties) rows.push(...fieldRows(prop, `${path}.`, depth + 1));
      if (prop?.type === 'array' && prop.items?.type === 'object' && prop.items.properties) rows.push(...fieldRows(prop.items, `${path}[].`, depth + 1));
    }
  }
  return rows;
}

function bodySchema(op) {
  const content = op.requestBody?.content;
  if (!content) return undefined;
  return content['application/json']?.schema ?? Object.values(content)[0]?.schema;
}

function parameterRows(params) {
  const rows = [];
  // A querystring declared as "any attribute" (a record) comes out of the converter as three
  // pseudo-parameters named type / additionalProperties / description: show it as one row.
  const pseudo = params.filter((p) => p.in === 'query' && typeof p.schema !== 'object');
  const isRecord = pseudo.length > 0 && params.some((p) => p.in === 'query' && p.name === 'additionalProperties');
  const order = { path: 0, query: 1, header: 2 };
  const sorted = [...params].sort((a, b) => (order[a.in] ?? 9) - (order[b.in] ?? 9) || a.name.localeCompare(b.name));
  for (const p of sorted) {
    if (isRecord && p.in === 'query' && ['type', 'additionalProperties', 'description'].includes(p.name)) continue;
    rows.push(`| \`${esc(p.name)}\` | ${p.in} | ${typeOf(p.schema)} | ${p.required ? 'yes' : ''} | ${esc(constraints(p.schema))} | ${esc(p.description ?? describe(p.schema))} |`);
  }
  if (isRecord) {
    const valueSchema = params.find((p) => p.name === 'additionalProperties')?.schema;
    const text = params.find((p) => p.name === 'description' && typeof p.schema === 'string')?.schema ?? 'context attributes';
    rows.push(`| any name | query | ${typeOf(valueSchema)} |  | ${esc(constraints(valueSchema))} | ${esc(text)} |`);
  }
  return rows;
}

function responseLines(op) {
  const lines = [];
  const codes = Object.keys(op.responses ?? {}).sort();
  const errors = codes.filter((c) => Number(c) >= 400);
  for (const code of codes.filter((c) => Number(c) < 400)) {
    const r = op.responses[code];
    const schema = r.content?.['application/json']?.schema ?? (r.content ? Object.values(r.content)[0]?.schema : undefined);
    let what = '';
    if (schema?.properties) what = `fields ${Object.keys(schema.properties).map((k) => `\`${k}\``).join(', ')}`;
    else if (schema?.type === 'array') what = 'an array';
    else if (r.description && r.description !== 'Default Response') what = r.description;
    lines.push(`- \`${code}\`${what ? `: ${esc(what)}` : ''}`);
  }
  if (errors.length) lines.push(`- errors: ${errors.map((c) => `\`${c}\``).join(', ')} (the error body above)`);
  return lines;
}

function opSection(method, path, op, policy) {
  const out = [];
  out.push(`### \`${method} ${path}\``, '');
  if (op.summary) out.push(`${op.summary}.`.replace(/\.\.$/, '.'), '');
  if (op.description) out.push(op.description, '');
  const role = policy?.access ? ACCESS_LABEL[policy.access] ?? policy.access : 'unknown';
  const limit = policy?.access === 'public' ? 'none' : policy?.rateLimitClass ?? 'admin';
  out.push(`Role: **${role}** · rate-limit class: \`${limit}\``, '');
  const params = parameterRows(op.parameters ?? []);
  if (params.length) {
    out.push('| parameter | in | type | required | constraints | description |', '|---|---|---|---|---|---|', ...params, '');
  }
  const body = bodySchema(op);
  if (body) {
    const rows = fieldRows(body);
    const required = op.requestBody?.required && !body.nullable ? 'required' : 'optional';
    if (rows.length) {
      out.push(`Request body (JSON, ${required}${body.additionalProperties === false ? '; unknown fields are refused' : ''}):`, '');
      out.push('| field | type | required | constraints | description |', '|---|---|---|---|---|', ...rows, '');
    } else {
      out.push(`Request body (JSON, ${required}): ${typeOf(body)}${describe(body) ? ` — ${esc(describe(body))}` : ''}.`, '');
    }
  }
  const responses = responseLines(op);
  if (responses.length) out.push('Responses:', '', ...responses, '');
  return out;
}

/** Renders docs/api.md as a string. */
export async function renderApiDocs() {
  const { doc, access } = await collect();
  const ops = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(byMethod)) {
      const method = m.toUpperCase();
      ops.push({ method, path, op, tag: op.tags?.[0] ?? 'other', policy: access.get(`${method} ${path}`) });
    }
  }
  ops.sort((a, b) => a.tag.localeCompare(b.tag) || a.path.localeCompare(b.path) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method));
  const tags = [...new Set(ops.map((o) => o.tag))];

  const out = [
    '# API reference',
    '',
    '<!-- Generated by scripts/gen-api-docs.mjs from the server\'s OpenAPI document; do not edit by hand.',
    '     Regenerate: npm run build && node scripts/gen-api-docs.mjs -->',
    '',
    `${doc.info.title} ${doc.info.version}. Generated from the OpenAPI document the server serves at \`/docs/json\``,
    '(browsable at `/docs`), which is itself generated from the schemas that validate requests; the role',
    'of each route is read from its access policy in the route table.',
    '',
    '- **Authentication:** `Authorization: Bearer <token>` on every route whose role is not "none".',
    '  Roles nest: SUPER_ADMIN ⊃ OPERATOR ⊃ VIEWER. "SDK (any token)" routes accept an SDK token and',
    '  any person\'s token. See [security.md](security.md).',
    '- **Errors:** every error is `{ "error": { "code", "message", "details?", "requestId" } }`; the codes',
    '  and what to do about each are in [errors.md](errors.md). Every authenticated route can answer',
    '  401 (`TOKEN_MISSING`, `TOKEN_INVALID`), 403 (`FORBIDDEN`) and 429 (`RATE_LIMITED`), whether or',
    '  not it lists them below; any route can answer 500 and 503 (`DATABASE_UNAVAILABLE`).',
    '- **Rate-limit classes:** `admin` (`RAMPART_RATE_LIMIT_ADMIN`, per token), `sdk`',
    '  (`RAMPART_RATE_LIMIT_SDK`), `ingest` (`RAMPART_RATE_LIMIT_INGEST`); see the configuration table',
    '  in the [README](../README.md#configuration).',
    '- Routes not in the OpenAPI document: `/admin/*` (the admin UI, public static files) and `/docs`.',
    '',
    '## Routes',
    '',
    '| section | method | path | role | summary |',
    '|---|---|---|---|---|',
  ];
  for (const o of ops) {
    const anchor = `${o.method} ${o.path}`.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
    out.push(`| ${o.tag} | ${o.method} | [\`${o.path}\`](#${anchor}) | ${o.policy?.access ? ACCESS_LABEL[o.policy.access] : 'unknown'} | ${esc(o.op.summary ?? '')} |`);
  }
  out.push('');
  for (const tag of tags) {
    out.push(`## ${tag}`, '');
    for (const o of ops.filter((x) => x.tag === tag)) out.push(...opSection(o.method, o.path, o.op, o.policy));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const text = await renderApiDocs();
  if (process.argv.includes('--stdout')) process.stdout.write(text);
  else {
    writeFileSync(API_DOC_PATH, text);
    process.stdout.write(`wrote ${API_DOC_PATH}\n`);
  }
}
