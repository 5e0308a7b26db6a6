import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { addressFilter, guardedLookup, hostOf, TargetRefusedError, type TargetPolicy } from './target-policy.js';

export interface OutboundOptions {
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string> | undefined;
  readonly body?: string | undefined;
  /** For the whole exchange, redirects included: connect, send, and read the answer. */
  readonly timeoutMs: number;
  /** Where the request may go; undefined: anywhere (a URL the deployer configured). */
  readonly policy?: TargetPolicy | undefined;
  /** How many redirects to follow (GET only); 0 returns the 3xx itself. */
  readonly maxRedirects?: number | undefined;
  /** The answer's body is cut here; callers only need a few words or a JSON document. */
  readonly maxResponseBytes?: number | undefined;
}

export interface OutboundResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly url: string;
}

const DEFAULT_MAX_RESPONSE = 16 * 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Thrown when the time is up; named like fetch's so callers' messages stay the same. */
export class OutboundTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * One HTTP(S) request made with node:http rather than fetch, because only node:http takes a
 * `lookup`: with a policy, every address the host resolves to is checked and the socket
 * connects to a checked one (see guardedLookup). A fresh connection per request (no agent):
 * a pooled socket opened for another caller must not be reused without the check.
 */
export async function sendOutbound(url: string, options: OutboundOptions): Promise<OutboundResponse> {
  const deadline = Date.now() + options.timeoutMs;
  const allowed = options.policy ? addressFilter(options.policy) : undefined;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const host = hostOf(current);
    // An IP literal never goes through lookup: check it here.
    if (allowed && isIP(host) && !allowed(host)) throw new TargetRefusedError(host, host);
    const res = await once(current, options, deadline, allowed);
    const location = res.headers.location;
    if (options.method === 'GET' && REDIRECTS.has(res.status) && location && hop < (options.maxRedirects ?? 0)) {
      current = new URL(location, current);
      if (current.protocol !== 'http:' && current.protocol !== 'https:') return res;
      continue;
    }
    return res;
  }
}

function once(url: URL, options: OutboundOptions, deadline: number, allowed: ((address: string) => boolean) | undefined): Promise<OutboundResponse> {
  const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    let response: IncomingMessage | undefined;
    const finish = (err: Error | undefined, value?: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy(err);
        response?.destroy();
        reject(err);
      } else {
        resolve(value!);
      }
    };
    const timer = setTimeout(() => finish(new OutboundTimeoutError(options.timeoutMs)), Math.max(0, deadline - Date.now()));
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
    const req = send(
      url,
      {
        method: options.method,
        agent: false,
        headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        ...(allowed ? { lookup: guardedLookup(allowed) } : {}),
      },
      (res) => {
        response = res;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            url: url.toString(),
          });
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          chunks.push(chunk);
          size += chunk.length;
          if (size >= max) {
            // Enough to answer with; the rest is not worth the wait.
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', (err) => finish(err));
        res.on('aborted', () => finish(new Error('the connection closed before the answer was complete')));
      },
    );
    req.on('error', (err) => finish(err));
    req.end(body);
  });
}
