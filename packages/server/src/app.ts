import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, validatorCompiler } from 'fastify-type-provider-zod';
import { adminEventRoutes } from './admin-ui/events.js';
import { adminUiRoutes, DEFAULT_WEB_DIR } from './admin-ui/static.js';
import { auditRoutes } from './audit/routes.js';
import { INTERNAL_HEADER, installAuth } from './auth/plugin.js';
import { tokenRoutes } from './auth/routes.js';
import { startTokenService, type TokenService } from './auth/token-service.js';
import { targetPolicyOf, type Config } from './config.js';
import type { Database } from './db/database.js';
import { ConfigCache } from './evaluation/config-cache.js';
import { evaluationRoutes } from './evaluation/routes.js';
import { createEvaluationFastPath, serverWithFastPath, type FastPath } from './evaluation/fast-path.js';
import { createEvaluationService } from './evaluation/service.js';
import { ChangeBus } from './events/change-bus.js';
import { flagRoutes } from './flags/routes.js';
import { createFlagService, type FlagService } from './flags/service.js';
import { installErrorHandling, sendError, toAppError } from './http/error-handler.js';
import { installRequestTracking, loggerOptions, requestIdFor } from './http/logging.js';
import { installCors } from './http/cors.js';
import { installRateLimit } from './http/rate-limit.js';
import { createMetrics } from './ops/metrics.js';
import { opsRoutes } from './ops/routes.js';
import { createBaselineService } from './metrics/baselines.js';
import { createIngestService } from './metrics/ingest-service.js';
import { createMetricsQueryService } from './metrics/query-service.js';
import { scheduleRetention } from './metrics/retention.js';
import { metricsRoutes } from './metrics/routes.js';
import { monitorRoutes } from './monitor/routes.js';
import { createPlanEvidence } from './rollouts/evidence.js';
import { rolloutRoutes } from './rollouts/routes.js';
import { createPlanService, WATCHDOG_ACTOR } from './rollouts/service.js';
import { latestRollbacks } from './rollouts/store.js';
import { createNotifier } from './notify/index.js';
import { createCheckpointRunner, type CheckpointRunner } from './monitor/runner.js';
import { createScheduler } from './monitor/scheduler.js';
import { latestHealth } from './monitor/store.js';
import { loadSubjectHasher } from './ops/subject-hash.js';
import { metricDefinitionRoutes } from './prometheus/routes.js';
import { notificationRoutes } from './notify/routes.js';
import { sdkRoutes } from './sdk/routes.js';
import { snapshotRoutes } from './snapshots/routes.js';
import { scheduledChangeRoutes } from './schedules/routes.js';
import { createScheduledChangeService } from './schedules/service.js';

export interface AppDeps {
  /** An open, migrated database. The app does not close it: whoever opened it does. */
  readonly db: Database;
  /** The watchdog's and the plans' clock (default Date.now); tests drive a simulated one. */
  readonly clock?: () => number;
  /** Where JSON logs go (default stdout); tests pass a stream to read them. */
  readonly logStream?: NodeJS.WritableStream;
}

export interface Services {
  readonly db: Database;
  readonly flags: FlagService;
  readonly tokens: TokenService;
  readonly bus: ChangeBus;
  readonly cache: ConfigCache;
}

declare module 'fastify' {
  interface FastifyInstance {
    rampart: Services;
    /** The evaluation hot path over real HTTP, when enabled (see evaluation/fast-path.ts). */
    evaluationFastPath: FastPath | undefined;
    /** The checkpoint runner and its scheduler (started by `startServer`, not by tests). */
    watchdog: { runner: CheckpointRunner; scheduler: ReturnType<typeof createScheduler> };
  }
}

export const API_VERSION = '0.1.0';

/**
 * The composition root: wires every slice into one Fastify instance. It does not listen;
 * tests use `app.inject()` or `app.listen()` as they need.
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const { db } = deps;
  const fastPathHolder: { fastPath?: FastPath } = {};
  const app = Fastify({
    serverFactory: serverWithFastPath(fastPathHolder),
    logger: loggerOptions(config.logLevel, deps.logStream),
    genReqId: requestIdFor,
    requestIdHeader: false,
    // Per-request lines come from our onResponse hook, which keeps subject ids out of them.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request: it costs ~10 % of an evaluation's time. Our log lines
    // carry the request id explicitly instead.
    childLoggerFactory: (logger) => logger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    // Flag keys may be 128 characters; Fastify's default path-parameter limit is 100.
    routerOptions: { maxParamLength: 512 },
    // A malformed URL (broken percent-encoding) still gets the standard error body.
    frameworkErrors: (error, request, reply) => sendError(request, reply, toAppError(error)),
  });
  // Fastify parses text/plain by default; Rampart speaks JSON only, so anything else is a 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  // Responses are built from trusted internal types; plain JSON.stringify keeps the hot path lean.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const metrics = createMetrics({
    watchdogState: async () => ({ health: await latestHealth(db), rollbacks: await latestRollbacks(db, WATCHDOG_ACTOR.name) }),
  });
  const bus = new ChangeBus(db);
  await bus.start();
  const cache = new ConfigCache(db, bus, config.configCacheTtlMs);
  const tokens = await startTokenService(db, bus, { leaseMs: config.replicaLeaseMs, log: app.log });
  const flags = createFlagService(db, bus);
  const hashSubject = await loadSubjectHasher(db);
  const evaluation = createEvaluationService({ cache, env: config.env, metrics, hashSubject, log: app.log });
  app.decorate('rampart', { db, flags, tokens, bus, cache });
  // A per-token evaluation limit is enforced by the route's limiter only, so it turns the fast path off.
  if (config.rateLimitSdk === 0) {
    // Cross-origin requests go through Fastify, where the CORS plugin adds its headers.
    const crossOrigin = config.corsOrigins.length > 0;
    const fastPath = createEvaluationFastPath({ evaluation, cache, tokens, metrics, log: app.log, declineCrossOrigin: crossOrigin });
    fastPathHolder.fastPath = fastPath;
    app.addHook('preClose', async () => fastPath.disable());
  }
  app.decorate('evaluationFastPath', fastPathHolder.fastPath);

  installErrorHandling(app);
  installRequestTracking(app, metrics);
  // Before authentication: preflights carry no token and are answered in CORS's own hook.
  await installCors(app, config.corsOrigins);
  const internalSecret = randomBytes(32).toString('base64url');
  installAuth(app, tokens, internalSecret);
  await installRateLimit(app, { admin: config.rateLimitAdmin, sdk: config.rateLimitSdk, ingest: config.rateLimitIngest });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Rampart API',
        version: API_VERSION,
        description: 'Guarded feature rollouts. Errors: `{ "error": { "code", "message", "details?", "requestId" } }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(opsRoutes(db, metrics));
  const clock = deps.clock ?? Date.now;
  const plans = createPlanService(db, flags, clock, {
    onRollback: ({ flag, by, policy }) => metrics.rollbacks.inc({ flag, by, policy }),
  });
  await plans.seedTemplates();
  const planEvidence = createPlanEvidence(db, plans, clock);
  await app.register(flagRoutes(flags, plans));
  await app.register(rolloutRoutes(db, plans, clock));
  await app.register(auditRoutes(db));
  await app.register(tokenRoutes(tokens));
  await app.register(evaluationRoutes(evaluation));
  await app.register(sdkRoutes({ cache, bus, tokens, heartbeatMs: 15_000 }));
  await app.register(adminEventRoutes({ bus, tokens, heartbeatMs: 15_000 }));
  await app.register(adminUiRoutes(config.webDir ?? DEFAULT_WEB_DIR));
  const metricsQuery = createMetricsQueryService(db, config.minuteRetentionMs);
  const baselines = createBaselineService(db, metricsQuery);
  await app.register(
    metricsRoutes({
      ingest: createIngestService(db, (cells) => metrics.countCohortResponses(cells)),
      query: metricsQuery,
      baselines,
      clock,
      onIngest: ({ code, events }) => {
        if (code) {
          metrics.ingestBatches.inc({ result: 'rejected' });
          metrics.ingestRejects.inc({ code });
        } else {
          metrics.ingestBatches.inc({ result: events > 0 ? 'accepted' : 'duplicate' });
          metrics.ingestEvents.inc(events);
        }
      },
    }),
  );
  const stopRetention = scheduleRetention(db, config.minuteRetentionMs, app.log);
  const notifier = createNotifier({ db, config, log: app.log });
  const pendingNotifications = new Set<Promise<unknown>>();
  const runner = createCheckpointRunner({
    db,
    app,
    internalAuth: { [INTERNAL_HEADER]: internalSecret },
    env: config.env,
    metrics: metricsQuery,
    baselines,
    prometheusUrl: config.prometheusUrl,
    targets: targetPolicyOf(config),
    clock,
    onCheckpoint: async (cp) => {
      if (cp.status === 'MISSED' || !cp.health || !cp.decision) return;
      metrics.checkpoints.inc({ flag: cp.flag, verdict: cp.status });
      // The plan acts first (a rollback within the second), then people are told, rollback included.
      const outcome = await planEvidence.onCheckpoint(cp).catch((err: unknown) => {
        app.log.error({ err, checkpoint: cp.id }, 'plan evidence failed');
        return { action: 'none' as const, why: undefined };
      });
      const alerts = outcome.action === 'rollback' ? [...cp.alerts, { code: 'ROLLBACK', severity: 'FAIL', message: `plan rolled back: ${outcome.why}` }] : cp.alerts;
      // Delivery retries can take seconds: the checkpoint answers now, notifications follow.
      const sending = notifier
        .onCheckpoint({ id: cp.id, flag: cp.flag, verdict: cp.status, health: cp.health, decision: cp.decision, alerts, at: cp.at })
        .catch((err: unknown) => app.log.warn({ err, checkpoint: cp.id }, 'notification failed'))
        .finally(() => pendingNotifications.delete(sending));
      pendingNotifications.add(sending);
    },
  });
  await app.register(monitorRoutes(db, runner));
  const scheduler = createScheduler({ db, runner, log: app.log, clock });
  app.decorate('watchdog', { runner, scheduler });
  await app.register(metricDefinitionRoutes(db, config.prometheusUrl, targetPolicyOf(config)));
  await app.register(notificationRoutes(db, config));
  await app.register(snapshotRoutes({ db, bus, serverVersion: API_VERSION }));
  const schedules = createScheduledChangeService({ db, flags, log: app.log });
  app.decorate('schedules', schedules);
  await app.register(scheduledChangeRoutes(schedules));

  app.addHook('onClose', async () => {
    scheduler.stop();
    await schedules.stop();
    await Promise.allSettled([...pendingNotifications]);
    stopRetention();
    cache.close();
    await tokens.stop();
    await bus.stop();
  });
  return app;
}
