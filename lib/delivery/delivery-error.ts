import { brandedInstanceof } from '../branded-instanceof.js';

/** Why a provider did not take a message: it did not answer in time, refused it, or was not reached. */
export type DeliveryFailure = 'timeout' | 'rejected' | 'unreachable';

/**
 * A sender's failure, safe to report: the message says which provider and what happened, never
 * the recipient or the content (the SDKs' own errors carry the request body, code included, so
 * adapters never pass them on, not even as `cause`).
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly reason: DeliveryFailure,
    /** The provider's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

brandedInstanceof(DeliveryError, 'DeliveryError');

/**
 * Settles like `promise`, or rejects with a `timeout` DeliveryError after `ms`. The SDK request may
 * still run on (an injected client's own timeout governs it); the user gets an answer regardless.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, provider: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeliveryError(`${provider} did not answer within ${ms} ms`, 'timeout')),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A positive whole number of ms for an adapter's `timeoutMs`, or a TypeError saying how to fix it. */
export function checkTimeout(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where}: \`timeoutMs\` must be whole milliseconds >= 1, got ${String(value)}`);
  }
  return value;
}
