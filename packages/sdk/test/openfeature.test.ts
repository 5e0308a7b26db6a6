import {
  ErrorCode,
  OpenFeature as ServerOpenFeature,
  ProviderEvents as ServerEvents,
  ProviderStatus as ServerStatus,
  type EventDetails as ServerEventDetails,
} from '@openfeature/server-sdk';
import {
  OpenFeature as WebOpenFeature,
  ProviderEvents as WebEvents,
  ProviderStatus as WebStatus,
  type EventDetails as WebEventDetails,
} from '@openfeature/web-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { createClient, type ClientOptions } from '../src/client.js';
import { RampartProvider as ServerProvider } from '../src/openfeature/server.js';
import { RampartProvider as WebProvider } from '../src/openfeature/web.js';

const ADMIN_TOKEN = 'rpt_test-admin-token-0123456789abcdefghij';
/** Quick reconnects; no metrics flush during a test; no `FEATURE_*` overrides from this process's env. */
const fast = { backoff: { minMs: 50, maxMs: 200 }, pollIntervalMs: 100, flushIntervalMs: 60_000, env: {} } satisfies Partial<ClientOptions>;

interface FlagSpec {
  key: string;
  enabled: boolean;
  rolloutPercentage: number;
  allowlist?: string[];
  stickiness?: string;
}

/** The flags the server starts with. */
const FLAGS: FlagSpec[] = [
  { key: 'checkout', enabled: true, rolloutPercentage: 50, allowlist: ['vip-1'] },
  { key: 'dark-mode', enabled: false, rolloutPercentage: 100, allowlist: ['vip-1'] },
  { key: 'banner', enabled: true, rolloutPercentage: 100 },
  { key: 'web-banner', enabled: true, rolloutPercentage: 100 },
  { key: 'by-account', enabled: true, rolloutPercentage: 0, allowlist: ['acct-7'], stickiness: 'accountId' },
];

interface Rampart {
  readonly url: string;
  /** An SDK token. */
  readonly token: string;
  /** Each flag's version as the server created it. */
  readonly versions: Record<string, number>;
  admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A real Rampart server in this process (in-memory database), with FLAGS created and an SDK token. */
async function startRampart(): Promise<Rampart> {
  const server: RunningServer = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      RAMPART_DATA_DIR: 'memory://',
      RAMPART_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      RAMPART_WATCHDOG_SCHEDULE: 'false',
    }),
  );
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const admin = (method: string, path: string, body?: unknown) => call(ADMIN_TOKEN, method, path, body);
  const versions: Record<string, number> = {};
  for (const f of FLAGS) versions[f.key] = (await admin('POST', '/api/admin/feature-flags', f)).version as number;
  const { token } = (await admin('POST', '/api/admin/tokens', { name: 'openfeature-test', role: 'SDK' })) as { token: string };
  return { url: server.url, token, versions, admin, close: () => server.close() };
}

interface Subject {
  id: string;
  bucket: number;
}

/** One subject the server puts in the rollout of `checkout` and one it leaves out, with their buckets. */
async function splitSubjects(r: Rampart): Promise<{ inside: Subject; outside: Subject }> {
  const contexts = Array.from({ length: 40 }, (_, i) => ({ id: `user-${i}` }));
  const res = await fetch(`${r.url}/api/evaluate/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ contexts, flags: ['checkout'] }),
  });
  const { results } = (await res.json()) as { results: { flags: Record<string, { reason: string; bucket: number }> }[] };
  const pick = (reason: string): Subject => {
    const i = results.findIndex((x) => x.flags.checkout?.reason === reason);
    if (i < 0) throw new Error(`no subject among ${contexts.length} with ${reason}`);
    return { id: contexts[i]!.id, bucket: results[i]!.flags.checkout!.bucket };
  };
  return { inside: pick('ROLLOUT'), outside: pick('NOT_IN_ROLLOUT') };
}

/** The first event `subscribe` delivers, or a failure after `ms`. */
function nextEvent<T>(subscribe: (handler: (details?: T) => void) => () => void, what: string, ms = 10_000): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${what} event within ${ms} ms`));
    }, ms);
    const unsubscribe = subscribe((details) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(details);
    });
  });
}

/*
 * One Rampart server for the whole file (it takes seconds to start); the last suite takes it
 * down, so it stays last. Each suite sets its own providers and clears them afterwards.
 */
let rampart: Rampart;
let inside: Subject;
let outside: Subject;

beforeAll(async () => {
  rampart = await startRampart();
  ({ inside, outside } = await splitSubjects(rampart));
});
afterAll(async () => {
  await rampart?.close();
});

describe('OpenFeature server provider', () => {
  let provider: ServerProvider;
  const client = () => ServerOpenFeature.getClient();

  beforeAll(async () => {
    provider = new ServerProvider({ url: rampart.url, token: rampart.token, ...fast });
    await ServerOpenFeature.setProviderAndWait(provider);
  });
  afterAll(async () => {
    await ServerOpenFeature.clearProviders();
  });

  it('is ready once the config has arrived, under the name rampart', () => {
    expect(client().providerStatus).toBe(ServerStatus.READY);
    expect(client().metadata.providerMetadata.name).toBe('rampart');
    expect(provider.client.status()).toMatchObject({ state: 'READY', source: 'server' });
  });

  it('an allowlisted subject gets the feature by targeting match, with the flag version', async () => {
    const d = await client().getBooleanDetails('checkout', false, { targetingKey: 'vip-1' });
    expect(d).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    expect(d.errorCode).toBeUndefined();
    expect(d.flagMetadata).toEqual({ version: rampart.versions.checkout, cohort: 'allowlist' });
  });

  it('splits the rollout exactly as the server does: same subjects in and out, same buckets', async () => {
    const on = await client().getBooleanDetails('checkout', false, { targetingKey: inside.id });
    expect(on).toMatchObject({ value: true, variant: 'on', reason: 'SPLIT' });
    expect(on.flagMetadata).toEqual({ version: rampart.versions.checkout, bucket: inside.bucket, cohort: 'exposed' });
    expect(await client().getBooleanValue('checkout', false, { targetingKey: inside.id })).toBe(true);

    const off = await client().getBooleanDetails('checkout', true, { targetingKey: outside.id });
    expect(off).toMatchObject({ value: false, variant: 'off', reason: 'SPLIT' });
    expect(off.flagMetadata).toEqual({ version: rampart.versions.checkout, bucket: outside.bucket, cohort: 'control' });
  });

  it('a disabled flag is off for everyone, allowlist included', async () => {
    const d = await client().getBooleanDetails('dark-mode', true, { targetingKey: 'vip-1' });
    expect(d).toMatchObject({ value: false, variant: 'off', reason: 'DISABLED' });
    expect(d.errorCode).toBeUndefined();
  });

  it('an unknown flag returns the caller’s default with FLAG_NOT_FOUND', async () => {
    const d = await client().getBooleanDetails('no-such-flag', true, { targetingKey: 'vip-1' });
    expect(d).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(d.variant).toBeUndefined();
    expect(d.errorMessage).toContain('no-such-flag');
  });

  it('non-boolean resolutions return the default with TYPE_MISMATCH', async () => {
    const s = await client().getStringDetails('checkout', 'fallback', { targetingKey: 'vip-1' });
    expect(s).toMatchObject({ value: 'fallback', reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await client().getNumberValue('checkout', 7, { targetingKey: 'vip-1' })).toBe(7);
    expect(await client().getObjectValue('checkout', { a: 1 }, { targetingKey: 'vip-1' })).toEqual({ a: 1 });
  });

  it('targetingKey is the subject id; other attributes are kept; no subject means the default', async () => {
    // targetingKey wins over an `id` attribute.
    expect(await client().getBooleanDetails('checkout', false, { targetingKey: 'vip-1', id: outside.id })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    // Without a targeting key, an `id` attribute still names the subject.
    expect(await client().getBooleanValue('checkout', false, { id: 'vip-1' })).toBe(true);
    // A flag sticky to `accountId` reads that attribute.
    expect(await client().getBooleanDetails('by-account', false, { targetingKey: 'someone', accountId: 'acct-7' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    // The API-level context merges in like any OpenFeature context.
    ServerOpenFeature.setContext({ targetingKey: 'vip-1' });
    try {
      expect(await client().getBooleanDetails('checkout', false)).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    } finally {
      ServerOpenFeature.setContext({});
    }
    const none = await client().getBooleanDetails('checkout', true, {});
    expect(none).toMatchObject({ value: false, variant: 'off', reason: 'DEFAULT' });
    expect(none.errorCode).toBeUndefined();
  });

  it('an env master switch resolves as STATIC', async () => {
    const overridden = new ServerProvider({ url: rampart.url, token: rampart.token, ...fast, env: { FEATURE_CHECKOUT: 'off' } });
    await ServerOpenFeature.setProviderAndWait('override', overridden);
    const d = await ServerOpenFeature.getClient('override').getBooleanDetails('checkout', true, { targetingKey: 'vip-1' });
    expect(d).toMatchObject({ value: false, variant: 'off', reason: 'STATIC' });
  });

  it('a flag change reaches handlers as ConfigurationChanged with the flag, and evaluations follow', async () => {
    expect(await client().getBooleanValue('banner', false, { targetingKey: 'anyone' })).toBe(true);
    const changed = nextEvent<ServerEventDetails>((h) => {
      client().addHandler(ServerEvents.ConfigurationChanged, h);
      return () => client().removeHandler(ServerEvents.ConfigurationChanged, h);
    }, 'ConfigurationChanged');
    await rampart.admin('PUT', '/api/admin/feature-flags/banner', { enabled: false });
    const details = await changed;
    expect(details?.flagsChanged).toEqual(['banner']);
    const d = await client().getBooleanDetails('banner', true, { targetingKey: 'anyone' });
    expect(d).toMatchObject({ value: false, variant: 'off', reason: 'DISABLED' });
    expect(d.flagMetadata.version).toBeGreaterThan(rampart.versions.banner!);
  });

  it('closes the client it created, never one it was given', async () => {
    const given = createClient({ url: rampart.url, token: rampart.token, ...fast });
    try {
      const owning = new ServerProvider({ url: rampart.url, token: rampart.token, ...fast });
      await ServerOpenFeature.setProviderAndWait('ownership', owning);
      // Replacing a provider closes it (OpenFeature calls onClose).
      await ServerOpenFeature.setProviderAndWait('ownership', new ServerProvider(given));
      await expect.poll(() => owning.client.status().connection).toBe('closed');
      expect(await ServerOpenFeature.getClient('ownership').getBooleanValue('checkout', false, { targetingKey: 'vip-1' })).toBe(true);

      await ServerOpenFeature.setProviderAndWait('ownership', new ServerProvider({ url: rampart.url, token: rampart.token, ...fast }));
      await new Promise((r) => setTimeout(r, 100));
      expect(given.status().connection).toBe('streaming');
      expect(given.isEnabled('checkout', { id: 'vip-1' })).toBe(true);
    } finally {
      await given.close();
    }
  });

  it('a refused SDK token fails initialization for good; evaluations return the default', async () => {
    const refused = new ServerProvider({ url: rampart.url, token: 'rpt_not-a-real-token-0123456789abcdefghij', ...fast });
    await expect(ServerOpenFeature.setProviderAndWait('refused', refused)).rejects.toThrow(/refused the SDK token/);
    const c = ServerOpenFeature.getClient('refused');
    expect(c.providerStatus).toBe(ServerStatus.FATAL);
    expect(await c.getBooleanDetails('checkout', true, { targetingKey: 'vip-1' })).toMatchObject({
      value: true,
      errorCode: ErrorCode.PROVIDER_FATAL,
    });
    expect(refused.client.status().connection).toBe('closed');
  });
});

describe('OpenFeature web provider', () => {
  let provider: WebProvider;
  const client = () => WebOpenFeature.getClient();
  /** The web SDK evaluates the static context: set it, then resolve. */
  const withContext = async (context: Record<string, string>) => {
    await WebOpenFeature.setContext(context);
    return client();
  };

  beforeAll(async () => {
    provider = new WebProvider({ url: rampart.url, token: rampart.token, ...fast });
    await WebOpenFeature.setProviderAndWait(provider);
  });
  afterAll(async () => {
    await WebOpenFeature.clearProviders();
    await WebOpenFeature.clearContexts();
  });

  it('is ready once the config has arrived, under the name rampart', () => {
    expect(client().providerStatus).toBe(WebStatus.READY);
    expect(client().metadata.providerMetadata.name).toBe('rampart');
  });

  it('resolves synchronously: allowlist, rollout split, disabled, each with its reason and variant', async () => {
    const vip = (await withContext({ targetingKey: 'vip-1' })).getBooleanDetails('checkout', false);
    expect(vip).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    expect(vip.flagMetadata).toEqual({ version: rampart.versions.checkout, cohort: 'allowlist' });

    const on = (await withContext({ targetingKey: inside.id })).getBooleanDetails('checkout', false);
    expect(on).toMatchObject({ value: true, variant: 'on', reason: 'SPLIT' });
    expect(on.flagMetadata).toEqual({ version: rampart.versions.checkout, bucket: inside.bucket, cohort: 'exposed' });

    const off = (await withContext({ targetingKey: outside.id })).getBooleanDetails('checkout', true);
    expect(off).toMatchObject({ value: false, variant: 'off', reason: 'SPLIT' });
    expect(off.flagMetadata.bucket).toBe(outside.bucket);

    const disabled = (await withContext({ targetingKey: 'vip-1' })).getBooleanDetails('dark-mode', true);
    expect(disabled).toMatchObject({ value: false, variant: 'off', reason: 'DISABLED' });
  });

  it('unknown flags and non-boolean types return the default with an error code', async () => {
    const c = await withContext({ targetingKey: 'vip-1' });
    expect(c.getBooleanDetails('no-such-flag', true)).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(c.getStringDetails('checkout', 'fallback')).toMatchObject({ value: 'fallback', reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH });
    expect(c.getNumberValue('checkout', 3)).toBe(3);
  });

  it('a context change applies at once: targetingKey is the subject, other attributes kept, none means the default', async () => {
    expect((await withContext({ targetingKey: outside.id })).getBooleanValue('checkout', true)).toBe(false);
    expect((await withContext({ targetingKey: 'vip-1' })).getBooleanValue('checkout', false)).toBe(true);
    expect(client().providerStatus).toBe(WebStatus.READY);
    expect((await withContext({ targetingKey: 'someone', accountId: 'acct-7' })).getBooleanDetails('by-account', false)).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    expect((await withContext({})).getBooleanDetails('checkout', true)).toMatchObject({ value: false, variant: 'off', reason: 'DEFAULT' });
  });

  it('a flag change reaches handlers as ConfigurationChanged with the flag, and evaluations follow', async () => {
    const c = await withContext({ targetingKey: 'anyone' });
    expect(c.getBooleanValue('web-banner', false)).toBe(true);
    const changed = nextEvent<WebEventDetails>((h) => {
      c.addHandler(WebEvents.ConfigurationChanged, h);
      return () => c.removeHandler(WebEvents.ConfigurationChanged, h);
    }, 'ConfigurationChanged');
    await rampart.admin('PUT', '/api/admin/feature-flags/web-banner', { enabled: false });
    expect((await changed)?.flagsChanged).toEqual(['web-banner']);
    expect(c.getBooleanDetails('web-banner', true)).toMatchObject({ value: false, variant: 'off', reason: 'DISABLED' });
  });
});

describe('both providers when Rampart goes away (last: it closes the server)', () => {
  const STALE_AFTER_MS = 300;
  let server: ServerProvider;
  let web: WebProvider;

  beforeAll(async () => {
    server = new ServerProvider({ url: rampart.url, token: rampart.token, ...fast, staleAfterMs: STALE_AFTER_MS });
    web = new WebProvider({ url: rampart.url, token: rampart.token, ...fast, staleAfterMs: STALE_AFTER_MS });
    await WebOpenFeature.setContext('lost', { targetingKey: 'vip-1' });
    await Promise.all([ServerOpenFeature.setProviderAndWait('lost', server), WebOpenFeature.setProviderAndWait('lost', web)]);
  });
  afterAll(async () => {
    await ServerOpenFeature.clearProviders();
    await WebOpenFeature.clearProviders();
    await WebOpenFeature.clearContexts();
  });

  it('emits Stale once staleAfterMs have passed without sync; the last good config keeps serving', async () => {
    const serverClient = ServerOpenFeature.getClient('lost');
    const webClient = WebOpenFeature.getClient('lost');
    // Connected and in sync: still READY long after staleAfterMs.
    await new Promise((r) => setTimeout(r, 2 * STALE_AFTER_MS));
    expect(serverClient.providerStatus).toBe(ServerStatus.READY);
    expect(webClient.providerStatus).toBe(WebStatus.READY);

    const serverStale = nextEvent<ServerEventDetails>((h) => {
      serverClient.addHandler(ServerEvents.Stale, h);
      return () => serverClient.removeHandler(ServerEvents.Stale, h);
    }, 'server Stale');
    const webStale = nextEvent<WebEventDetails>((h) => {
      webClient.addHandler(WebEvents.Stale, h);
      return () => webClient.removeHandler(WebEvents.Stale, h);
    }, 'web Stale');
    const lostAt = Date.now();
    await rampart.close();
    const [serverDetails, webDetails] = await Promise.all([serverStale, webStale]);
    const after = Date.now() - lostAt;
    expect(after).toBeGreaterThanOrEqual(STALE_AFTER_MS - 20);
    expect(after).toBeLessThan(5_000);
    expect(serverDetails?.message).toMatch(/unreachable/);
    expect(webDetails?.message).toMatch(/unreachable/);

    expect(serverClient.providerStatus).toBe(ServerStatus.STALE);
    expect(webClient.providerStatus).toBe(WebStatus.STALE);
    expect(server.client.status()).toMatchObject({ state: 'STALE', connection: 'offline' });
    // Fail-static: the last good config still answers, with its real reasons.
    expect(await serverClient.getBooleanDetails('checkout', false, { targetingKey: 'vip-1' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    expect(webClient.getBooleanDetails('checkout', false)).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
  });
});
