import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { StreamRequest, StreamTransport } from './stream-transport.js';

/**
 * `#stream-transport` in Node: the stream over `node:http`/`node:https`. A body chunk costs one
 * 'data' event and one string decode, where undici's fetch goes through a web ReadableStream
 * and several promises per chunk: for a process holding many clients (the propagation
 * benchmark's 1 000), that was most of the CPU a change cost. Browsers get `./fetch.js`.
 */
export const platformTransport: StreamTransport = (request: StreamRequest) =>
  new Promise<void>((resolve, reject) => {
    const { signal } = request;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const url = new URL(request.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    // Not http.request's own `signal` option: that rejects with a generic AbortError, and the
    // caller wants its reason (e.g. "stream idle") in the error it reports.
    const onAbort = () => {
      settle(signal.reason);
      outgoing.destroy();
    };
    const onResponse = (res: IncomingMessage) => {
      try {
        request.onResponse(res.statusCode ?? 0);
      } catch (err) {
        settle(err);
        res.destroy();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        try {
          request.onText(text);
        } catch (err) {
          settle(err);
          res.destroy();
        }
      });
      res.on('end', () => settle());
      res.on('error', settle);
      // A connection lost mid-body may close the response without an error.
      res.on('close', () => settle(new Error('Rampart stream: connection closed')));
    };
    const outgoing = send(url, { headers: request.headers }, onResponse);
    outgoing.on('error', settle);
    signal.addEventListener('abort', onAbort);
    outgoing.end();
  });
