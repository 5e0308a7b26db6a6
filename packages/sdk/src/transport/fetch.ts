import type { StreamRequest, StreamTransport } from './stream-transport.js';

/**
 * The stream over `fetch`: what browsers use (an EventSource cannot send the Authorization
 * header), and Node too when the application passes its own `fetch`.
 */
export function fetchTransport(fetchImpl: typeof fetch): StreamTransport {
  return async (request: StreamRequest) => {
    const res = await fetchImpl(request.url, { headers: request.headers, signal: request.signal });
    try {
      request.onResponse(res.status);
      if (!res.body) throw new Error(`Rampart stream: HTTP ${res.status} without a body`);
    } catch (err) {
      // Release the connection now rather than when the response is collected.
      res.body?.cancel().catch(() => {});
      throw err;
    }
    // The bytes straight from the body's reader through one streaming TextDecoder: a
    // TextDecoderStream would add a transform stream and its promise hops to every chunk.
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        request.onText(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      reader.cancel().catch(() => {});
      throw err;
    }
  };
}

/** `#stream-transport` outside Node: the global `fetch`, looked up when a stream opens. */
export const platformTransport: StreamTransport = (request) => fetchTransport(globalThis.fetch.bind(globalThis))(request);
