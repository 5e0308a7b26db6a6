import type {
  ErrorCode,
  EvaluationContext as OpenFeatureContext,
  FlagMetadata,
  ResolutionDetails,
  ResolutionReason,
} from '@openfeature/core';
import type { EvaluationContext, Reason } from '@rampart/core';
import { createClient, TOKEN_REFUSED, type ClientOptions, type ClientStatus, type FlagResult, type RampartClient } from '../client.js';

/*
 * What the server and web providers share: the Rampart → OpenFeature mapping, and how a
 * provider owns (or borrows) its client and listens to it. Only types come from OpenFeature
 * here: each provider module loads its own SDK (server or web), and this module must work with
 * either one. The enum values below are the OpenFeature spec's strings.
 */

const code = {
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND' as ErrorCode.FLAG_NOT_FOUND,
  PARSE_ERROR: 'PARSE_ERROR' as ErrorCode.PARSE_ERROR,
  TYPE_MISMATCH: 'TYPE_MISMATCH' as ErrorCode.TYPE_MISMATCH,
  PROVIDER_NOT_READY: 'PROVIDER_NOT_READY' as ErrorCode.PROVIDER_NOT_READY,
  GENERAL: 'GENERAL' as ErrorCode.GENERAL,
} as const;

/** The OpenFeature reason of each Rampart reason that resolves a value. */
const REASONS: Readonly<Record<Exclude<Reason, 'FLAG_NOT_FOUND' | 'ERROR'>, ResolutionReason>> = {
  ALLOWLIST: 'TARGETING_MATCH',
  ROLLOUT: 'SPLIT',
  NOT_IN_ROLLOUT: 'SPLIT',
  DISABLED: 'DISABLED',
  OVERRIDE: 'STATIC',
  NO_SUBJECT: 'DEFAULT',
};

/** The variants of a (boolean) Rampart flag. */
export const VARIANT_ON = 'on';
export const VARIANT_OFF = 'off';

/**
 * An OpenFeature context as Rampart sees it: `targetingKey` becomes the subject `id` (Rampart's
 * default stickiness attribute); every other attribute is kept as is, for flags that stick to
 * another attribute. Without a targeting key, an `id` attribute is used as given.
 */
export function toRampartContext(context: OpenFeatureContext | undefined): EvaluationContext {
  if (!context) return {};
  const { targetingKey, ...attributes } = context;
  return typeof targetingKey === 'string' && targetingKey !== '' ? { ...attributes, id: targetingKey } : attributes;
}

/** The OpenFeature error code of a Rampart `errorCode` (NOT_READY, INVALID_FLAG, GENERAL…). */
export function toErrorCode(errorCode: string | undefined): ErrorCode {
  switch (errorCode) {
    case 'NOT_READY':
      return code.PROVIDER_NOT_READY;
    case 'INVALID_FLAG':
      return code.PARSE_ERROR;
    case 'FLAG_NOT_FOUND':
      return code.FLAG_NOT_FOUND;
    default:
      return code.GENERAL;
  }
}

/** `version`, `bucket` and `cohort` of a result, those it has. */
export function toFlagMetadata(result: FlagResult): FlagMetadata {
  const metadata: FlagMetadata = {};
  if (result.version !== undefined) metadata.version = result.version;
  if (result.bucket !== undefined) metadata.bucket = result.bucket;
  if (result.cohort !== undefined) metadata.cohort = result.cohort;
  return metadata;
}

/** A Rampart evaluation as OpenFeature resolution details. */
export function toResolutionDetails(result: FlagResult): ResolutionDetails<boolean> {
  const flagMetadata = toFlagMetadata(result);
  switch (result.reason) {
    case 'FLAG_NOT_FOUND':
      return {
        value: result.value,
        reason: 'ERROR',
        errorCode: code.FLAG_NOT_FOUND,
        errorMessage: `Rampart has no flag named '${result.flag}'`,
        flagMetadata,
      };
    case 'ERROR':
      return {
        value: result.value,
        reason: 'ERROR',
        errorCode: toErrorCode(result.errorCode),
        errorMessage: errorMessageOf(result),
        flagMetadata,
      };
    default:
      return {
        value: result.value,
        variant: result.value ? VARIANT_ON : VARIANT_OFF,
        reason: REASONS[result.reason],
        flagMetadata,
      };
  }
}

function errorMessageOf(result: FlagResult): string {
  switch (result.errorCode) {
    case 'NOT_READY':
      return 'Rampart has no config yet';
    case 'INVALID_FLAG':
      return `Rampart flag '${result.flag}' is malformed`;
    default:
      return `Rampart could not evaluate flag '${result.flag}'`;
  }
}

/** Rampart flags are boolean: any other type resolves to the default, with TYPE_MISMATCH. */
export function typeMismatch<T>(flagKey: string, defaultValue: T, type: 'string' | 'number' | 'object'): ResolutionDetails<T> {
  return {
    value: defaultValue,
    reason: 'ERROR',
    errorCode: code.TYPE_MISMATCH,
    errorMessage: `Rampart flags are boolean; '${flagKey}' cannot be resolved as a ${type}`,
  };
}

function isClient(x: RampartClient | ClientOptions): x is RampartClient {
  const c = x as Partial<RampartClient>;
  return typeof c.evaluate === 'function' && typeof c.on === 'function' && typeof c.close === 'function';
}

/**
 * The client a provider uses: the one it was given (the caller keeps owning it), or one it
 * creates from options (the provider owns it, closes it in `onClose`, and makes a new one if
 * it is initialized again after that).
 */
export class ClientHolder {
  private current: RampartClient;
  private closed = false;
  readonly owned: boolean;

  constructor(private readonly source: RampartClient | ClientOptions) {
    this.owned = !isClient(source);
    this.current = isClient(source) ? source : createClient(source);
  }

  get client(): RampartClient {
    return this.current;
  }

  /** The client, reopened if the provider closed its own. */
  open(): RampartClient {
    if (this.closed && !isClient(this.source)) this.current = createClient(this.source);
    this.closed = false;
    return this.current;
  }

  async close(): Promise<void> {
    if (!this.owned || this.closed) return;
    this.closed = true;
    await this.current.close();
  }
}

/** True for the error the client reports when Rampart refuses its SDK token (HTTP 401/403). */
export function isTokenRefusal(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === TOKEN_REFUSED;
}

/**
 * Resolves once the client has a config; rejects if Rampart refuses the token first (retrying
 * will not help: the SDK token is fixed). With neither, it waits, like `client.ready`.
 */
export function whenReady(client: RampartClient): Promise<ClientStatus> {
  return new Promise<ClientStatus>((resolve, reject) => {
    const stop = client.on('error', (err) => {
      if (!isTokenRefusal(err)) return;
      stop();
      reject(err as Error);
    });
    void client.ready.then((status) => {
      stop();
      resolve(status);
    });
  });
}

/** What a provider does with its client's events, in OpenFeature terms. */
export interface ProviderEventSink {
  configurationChanged(flagsChanged: string[]): void;
  stale(message: string): void;
  ready(message: string): void;
  error(message: string): void;
}

/**
 * Turns client events into provider events: `update` (with the keys that changed) into
 * ConfigurationChanged, `stale` into Stale, `reconnected` into Ready, and a refused token into
 * Error (once, until the client reconnects). Returns the function that stops listening.
 */
export function watchClient(client: RampartClient, sink: ProviderEventSink): () => void {
  let refused = false;
  const stops = [
    client.on('update', ({ keys }) => {
      if (keys.length > 0) sink.configurationChanged([...keys]);
    }),
    client.on('stale', (status) => {
      sink.stale(`Rampart is unreachable (${status.lastError ?? 'no sync'}); serving the last good config`);
    }),
    client.on('reconnected', () => {
      refused = false;
      sink.ready('Rampart is reachable again');
    }),
    client.on('error', (err) => {
      if (refused || !isTokenRefusal(err)) return;
      refused = true;
      sink.error((err as Error).message);
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}

/**
 * The lifecycle both providers share: hold the client, wait for it in `initialize` (a refused
 * token is fatal: the provider closes a client it created and throws `fatal(message)`), forward
 * its events to `sink`, stop in `close`. Each provider adds only its SDK's classes.
 */
export class ProviderLifecycle {
  private readonly holder: ClientHolder;
  private unwatch: (() => void) | undefined;

  constructor(
    clientOrOptions: RampartClient | ClientOptions,
    private readonly sink: ProviderEventSink,
    private readonly fatal: (message: string) => Error,
  ) {
    this.holder = new ClientHolder(clientOrOptions);
  }

  get client(): RampartClient {
    return this.holder.client;
  }

  async initialize(): Promise<void> {
    const client = this.holder.open();
    this.unwatch?.();
    this.unwatch = undefined;
    try {
      await whenReady(client);
    } catch (err) {
      await this.holder.close();
      throw this.fatal(err instanceof Error ? err.message : String(err));
    }
    this.unwatch = watchClient(client, this.sink);
  }

  async close(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    await this.holder.close();
  }

  resolve(flagKey: string, defaultValue: boolean, context: OpenFeatureContext | undefined): ResolutionDetails<boolean> {
    return toResolutionDetails(this.holder.client.evaluate(flagKey, toRampartContext(context), defaultValue));
  }
}
