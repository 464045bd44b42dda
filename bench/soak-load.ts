import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';
import { header } from './load.js';
import type { Kind, Sent, SoakMix } from './soak-mix.js';

export interface MixLoadOptions {
  url: string;
  connections: number;
  durationS: number;
  /**
   * autocannon's `overallRate` (req/s over all connections): each connection may send its share per
   * second, as fast as answers come, then waits for the next second. Unthrottled when absent.
   */
  overallRate?: number;
  /** Stop after this many requests (the pool's users with a fresh code). */
  maxRequests?: number;
  /** Every answer: its kind, latency, and whether it was the expected one. */
  onAnswer?: (kind: Kind, ms: number, ok: boolean) => void;
  /** A connection error or a timeout (autocannon's reqError). */
  onError?: (error: Error) => void;
}

export interface MixLoadResult {
  responses: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  /** From the start to the last answer, s. */
  durationS: number;
}

/** One autocannon run of the mix (pipelining 1): every request is decided by `mix`, every answer judged by it. */
export async function runMix(mix: SoakMix, options: MixLoadOptions): Promise<MixLoadResult> {
  // autocannon judges the answer (onResponse) and then emits 'response' with its latency, in one
  // synchronous turn: the judgement is handed over through this variable.
  let judged: { kind: Kind; ok: boolean } | undefined;
  const request: autocannon.Request = {
    method: 'GET',
    path: '/guard',
    setupRequest: (req, context) => {
      const { request: next, sent } = mix.next();
      (context as { sent?: Sent }).sent = sent;
      return { ...req, ...next };
    },
    onResponse: (status, body, context, headers) => {
      const sent = (context as { sent?: Sent }).sent;
      judged = sent
        ? { kind: sent.kind, ok: mix.answer(sent, status, body, header(headers, 'set-cookie')) }
        : undefined;
    },
  };
  let responses = 0;
  const started = process.hrtime.bigint();
  let lastAnswer = started;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationS,
    timeout: 10,
    requests: [request],
    ...(options.overallRate === undefined
      ? {}
      : { overallRate: Math.max(1, Math.round(options.overallRate)) }),
    ...(options.maxRequests === undefined ? {} : { maxOverallRequests: options.maxRequests }),
  });
  const events = instance as unknown as EventEmitter;
  // autocannon 9 emits (client, status, bytes, ms); @types/autocannon describes an older signature.
  events.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    responses++;
    lastAnswer = process.hrtime.bigint();
    if (judged) options.onAnswer?.(judged.kind, ms, judged.ok);
    judged = undefined;
  });
  events.on('reqError', (error: Error) => options.onError?.(error));
  const result = await instance;
  return {
    responses,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: Number(lastAnswer - started) / 1e9,
  };
}
