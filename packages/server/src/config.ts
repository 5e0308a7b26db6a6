import { z } from 'zod';
import { parseNetwork, type TargetPolicy } from './outbound/target-policy.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** Every environment variable Rampart reads, in one schema (README lists them). */
const EnvSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  DATABASE_URL: z.string().url().optional(),
  RAMPART_DATA_DIR: z.string().default('./.rampart'),
  RAMPART_ADMIN_TOKEN: z.string().min(32, 'RAMPART_ADMIN_TOKEN needs at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RAMPART_PG_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  RAMPART_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  RAMPART_RATE_LIMIT_ADMIN: z.coerce.number().int().min(0).default(600),
  RAMPART_RATE_LIMIT_SDK: z.coerce.number().int().min(0).default(0),
  RAMPART_RATE_LIMIT_INGEST: z.coerce.number().int().min(0).default(6_000),
  RAMPART_MINUTE_RETENTION_HOURS: z.coerce.number().min(1).max(24 * 90).default(48),
  RAMPART_CONFIG_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(60_000),
  RAMPART_REPLICA_LEASE_MS: z.coerce.number().int().min(500).max(60_000).default(10_000),
  RAMPART_TRUST_PROXY: bool.default(false),
  RAMPART_WATCHDOG_SCHEDULE: bool.default(true),
  RAMPART_PROMETHEUS_URL: z
    .url({ protocol: /^https?$/ })
    .refine((s) => {
      const u = new URL(s);
      return !u.username && !u.password;
    }, 'RAMPART_PROMETHEUS_URL must not carry credentials')
    .optional(),
  RAMPART_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  RAMPART_SMTP_FROM: z.string().min(3).max(320).optional(),
  RAMPART_WEB_DIR: z.string().min(1).optional(),
  RAMPART_ALLOW_PRIVATE_TARGETS: bool.default(false),
  RAMPART_ALLOWED_TARGET_NETWORKS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((n) => n.trim()).filter(Boolean))
    .refine((nets) => nets.every((n) => parseNetwork(n)), 'RAMPART_ALLOWED_TARGET_NETWORKS: comma-separated CIDRs or addresses, e.g. 10.20.0.0/16,fd00:1::/64'),
  RAMPART_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
    .refine((origins) => origins.every(isCorsOrigin), 'comma-separated origins such as https://app.example.com,http://localhost:5173 (scheme, host and port only), or *'),
});

/** `*`, or an origin exactly as a browser sends it: scheme://host[:port], nothing after. */
function isCorsOrigin(s: string): boolean {
  if (s === '*') return true;
  try {
    const u = new URL(s);
    // Wildcard subdomains are not supported: the plugin compares origins exactly.
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === s && !s.includes('*');
  } catch {
    return false;
  }
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly adminToken: string | undefined;
  readonly logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  readonly pgPoolMax: number;
  readonly bodyLimitBytes: number;
  /** Requests per minute per token (or per address without one); 0 turns the limit off. */
  readonly rateLimitAdmin: number;
  readonly rateLimitSdk: number;
  readonly rateLimitIngest: number;
  /** How long minute rollups are kept before only their hours remain. */
  readonly minuteRetentionMs: number;
  /** Upper bound on how stale another replica's flag config can be if a notification is lost. */
  readonly configCacheTtlMs: number;
  /**
   * How long a replica trusts its token cache without reaching the database: evaluation keeps
   * answering that long through a database outage, and a revocation waits at most that long for
   * a replica that died without saying goodbye.
   */
  readonly replicaLeaseMs: number;
  readonly trustProxy: boolean;
  /** Run scheduled checkpoints in this process (every replica may; each slot runs once). */
  readonly watchdogSchedule: boolean;
  /** Default Prometheus for metric definitions that name none; unset: they must name one. */
  readonly prometheusUrl: string | undefined;
  /** SMTP server for e-mail channels, e.g. smtp://user:pass@host:587; unset: no e-mail channels. */
  readonly smtpUrl?: string | undefined;
  /** Default sender of notification e-mails. */
  readonly smtpFrom?: string | undefined;
  /** The built admin UI served at /admin (default: packages/web/dist of this checkout). */
  readonly webDir?: string | undefined;
  /**
   * Webhook, Slack and metric-definition Prometheus URLs may point at private, loopback and
   * link-local addresses. Off by default: those URLs are set through the API by token holders.
   */
  readonly allowPrivateTargets: boolean;
  /** Private networks those URLs may reach anyway (CIDRs or single addresses). */
  readonly allowedTargetNetworks: readonly string[];
  /**
   * Browser origins allowed to call the SDK routes (evaluation, /api/sdk/*, metric ingestion)
   * cross-origin; `*` for any. Empty (the default): no CORS headers at all.
   */
  readonly corsOrigins: readonly string[];
  /** Env of the process, for the `FEATURE_<KEY>` master switch. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {}

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.RAMPART_DATA_DIR,
    adminToken: e.RAMPART_ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    pgPoolMax: e.RAMPART_PG_POOL_MAX,
    bodyLimitBytes: e.RAMPART_BODY_LIMIT_BYTES,
    rateLimitAdmin: e.RAMPART_RATE_LIMIT_ADMIN,
    rateLimitSdk: e.RAMPART_RATE_LIMIT_SDK,
    rateLimitIngest: e.RAMPART_RATE_LIMIT_INGEST,
    minuteRetentionMs: e.RAMPART_MINUTE_RETENTION_HOURS * 3_600_000,
    configCacheTtlMs: e.RAMPART_CONFIG_CACHE_TTL_MS,
    replicaLeaseMs: e.RAMPART_REPLICA_LEASE_MS,
    trustProxy: e.RAMPART_TRUST_PROXY,
    watchdogSchedule: e.RAMPART_WATCHDOG_SCHEDULE,
    prometheusUrl: e.RAMPART_PROMETHEUS_URL,
    smtpUrl: e.RAMPART_SMTP_URL,
    smtpFrom: e.RAMPART_SMTP_FROM,
    webDir: e.RAMPART_WEB_DIR,
    allowPrivateTargets: e.RAMPART_ALLOW_PRIVATE_TARGETS,
    allowedTargetNetworks: e.RAMPART_ALLOWED_TARGET_NETWORKS,
    corsOrigins: e.RAMPART_CORS_ORIGINS,
    env,
  };
}

/** The outbound target policy the config describes. */
export function targetPolicyOf(config: Pick<Config, 'allowPrivateTargets' | 'allowedTargetNetworks'>): TargetPolicy {
  return { allowPrivate: config.allowPrivateTargets, allowedNetworks: config.allowedTargetNetworks };
}
