import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';
import type { Pick } from './users.js';

/** Hands each request its own user (cookie + body) and takes the answer back. */
export interface RequestSource {
  pick(): Pick | undefined;
  answered(pick: Pick, status: number, setCookie: string | string[] | undefined, body: string): void;
  endSegment(): void;
}

export interface LoadSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Rotates users per request; without it every request is the same. */
  source?: RequestSource;
}

export interface LoadOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:1234 */
  url: string;
  connections: number;
  durationS: number;
  /** Stop after this many requests even if time is left (a rotation's capacity). */
  maxRequests?: number;
}

export interface LoadResult {
  /** Answers received. */
  responses: number;
  /** Answers by HTTP status. */
  statuses: Record<number, number>;
  /** Latency of every answer, ms. */
  latenciesMs: number[];
  /** From the start to the last answer, s. */
  durationS: number;
  /** Connection errors and timeouts (autocannon's count). */
  errors: number;
  /** The run stopped because it reached `maxRequests`. */
  capped: boolean;
}

/** A response header by lower-case name, from autocannon's raw header object. */
export function header(
  headers: Record<string, unknown> | undefined,
  name: string,
): string | string[] | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value as string | string[];
  }
  return undefined;
}

/** One autocannon run (pipelining 1), collecting every answer's status and latency. */
export async function runLoad(spec: LoadSpec, options: LoadOptions): Promise<LoadResult> {
  const { source } = spec;
  const baseHeaders = spec.headers ?? {};
  const request: autocannon.Request = {
    method: spec.method,
    path: spec.path,
    headers: baseHeaders,
    ...(spec.body === undefined ? {} : { body: spec.body }),
  };
  if (source) {
    request.setupRequest = (req, context) => {
      const ctx = context as { pick?: Pick };
      const pick = source.pick();
      ctx.pick = pick;
      // No usable user: send the request without a session, so it shows as a non-2xx, never silently.
      req.headers = pick
        ? { ...baseHeaders, ...pick.headers }
        : { ...baseHeaders, 'content-type': 'application/json' };
      req.body = pick ? pick.body : '{}';
      return req;
    };
    request.onResponse = (status, body, context, headers) => {
      const pick = (context as { pick?: Pick }).pick;
      if (pick) source.answered(pick, status, header(headers, 'set-cookie'), body);
    };
  }

  const statuses: Record<number, number> = {};
  const latenciesMs: number[] = [];
  let responses = 0;
  const started = process.hrtime.bigint();
  // The rate is over the time answers arrived: autocannon notices the end only at its next 1 s tick.
  let lastAnswer = started;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationS,
    timeout: 10,
    requests: [request],
    ...(options.maxRequests === undefined ? {} : { maxOverallRequests: options.maxRequests }),
  });
  // autocannon 9 emits (client, status, bytes, ms); @types/autocannon describes an older signature.
  (instance as unknown as EventEmitter).on(
    'response',
    (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
      responses++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      latenciesMs.push(responseTimeMs);
      lastAnswer = process.hrtime.bigint();
    },
  );
  const result = await instance;
  const durationS = Number(lastAnswer - started) / 1e9;
  source?.endSegment();
  return {
    responses,
    statuses,
    latenciesMs,
    durationS,
    errors: result.errors,
    capped: options.maxRequests !== undefined && responses >= options.maxRequests - options.connections,
  };
}
