import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/web-sdk';
import type { ClientOptions, RampartClient } from '../client.js';
import { ProviderLifecycle, typeMismatch } from './mapping.js';

/**
 * An OpenFeature provider (`@openfeature/web-sdk`, static context) backed by a Rampart client.
 * Evaluation is local, so resolutions are synchronous and a context change needs no
 * reconciling. Give it a client (you keep owning it) or client options (the provider creates
 * the client and closes it in `onClose`).
 *
 * @example
 * await OpenFeature.setContext({ targetingKey: 'passenger-42' });
 * await OpenFeature.setProviderAndWait(new RampartProvider({ url, token }));
 * const on = OpenFeature.getClient().getBooleanValue('chat', false);
 */
export class RampartProvider implements Provider {
  readonly metadata = { name: 'rampart' } as const;
  readonly runsOn = 'client';
  readonly events = new OpenFeatureEventEmitter();
  private readonly lifecycle: ProviderLifecycle;

  constructor(clientOrOptions: RampartClient | ClientOptions) {
    this.lifecycle = new ProviderLifecycle(
      clientOrOptions,
      {
        configurationChanged: (flagsChanged) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged }),
        stale: (message) => this.events.emit(ProviderEvents.Stale, { message }),
        ready: (message) => this.events.emit(ProviderEvents.Ready, { message }),
        error: (message) => this.events.emit(ProviderEvents.Error, { message }),
      },
      (message) => new ProviderFatalError(message),
    );
  }

  /** The Rampart client in use (for `track`, `status()`…). */
  get client(): RampartClient {
    return this.lifecycle.client;
  }

  /** Waits for a config (from Rampart, storage or bootstrap); fails for good if Rampart refuses the token. */
  initialize(): Promise<void> {
    return this.lifecycle.initialize();
  }

  /** Nothing to reconcile: every resolution evaluates the current context locally. */
  onContextChange(): void {}

  onClose(): Promise<void> {
    return this.lifecycle.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): ResolutionDetails<boolean> {
    return this.lifecycle.resolve(flagKey, defaultValue, context);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string> {
    return typeMismatch(flagKey, defaultValue, 'string');
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number> {
    return typeMismatch(flagKey, defaultValue, 'number');
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return typeMismatch(flagKey, defaultValue, 'object');
  }
}
