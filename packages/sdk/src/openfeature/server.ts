import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { ClientOptions, RampartClient } from '../client.js';
import { ProviderLifecycle, typeMismatch } from './mapping.js';

/**
 * An OpenFeature provider (`@openfeature/server-sdk`) backed by a Rampart client: evaluation is
 * local, so resolutions never wait on the network. Give it a client (you keep owning it) or
 * client options (the provider creates the client and closes it in `onClose`).
 *
 * @example
 * await OpenFeature.setProviderAndWait(new RampartProvider({ url, token }));
 * const on = await OpenFeature.getClient().getBooleanValue('chat', false, { targetingKey: 'passenger-42' });
 */
export class RampartProvider implements Provider {
  readonly metadata = { name: 'rampart' } as const;
  readonly runsOn = 'server';
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

  onClose(): Promise<void> {
    return this.lifecycle.close();
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.lifecycle.resolve(flagKey, defaultValue, context);
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return typeMismatch(flagKey, defaultValue, 'string');
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return typeMismatch(flagKey, defaultValue, 'number');
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return typeMismatch(flagKey, defaultValue, 'object');
  }
}
