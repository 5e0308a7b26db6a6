/** One request for an event stream, as `sync.ts` makes it of a transport. */
export interface StreamRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Aborting ends the stream: the transport's promise rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /** The response's status, once, before any of the body; throwing ends the stream with that error. */
  onResponse(status: number): void;
  /**
   * The body as it arrives, decoded as UTF-8 by one streaming decoder (a character split
   * between two chunks comes whole in the second); throwing ends the stream with that error.
   */
  onText(text: string): void;
}

/**
 * Reads a long-lived response body as text. Resolves when the server ends the body normally;
 * rejects on a network error, an abort, or an error thrown by a callback.
 */
export type StreamTransport = (request: StreamRequest) => Promise<void>;
