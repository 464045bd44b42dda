import type { Request } from 'express';
import type { FactorName } from './keys.js';

interface EventBase {
  userId: string;
  /** When it happened (injected clock, ms). */
  at: number;
  /** The client's address as Express sees it (`req.ip`; set 'trust proxy' behind a proxy). */
  ip: string | undefined;
}

/** Audit events. They never carry a secret or a code. */
export type MfaEvent = EventBase &
  (
    | { type: 'enrolled'; factor: FactorName }
    | { type: 'verified'; factor: FactorName }
    | { type: 'failed'; factor: FactorName; failures: number }
    | { type: 'locked'; factor: FactorName; until: number }
    | { type: 'backup_code_used'; factor: 'backup_codes'; remaining: number }
    | { type: 'backup_codes_regenerated'; factor: 'backup_codes' }
    | { type: 'factor_removed'; factor: FactorName }
  );

type Distribute<T> = T extends unknown ? Omit<T, keyof EventBase> : never;
export type MfaEventInput = Distribute<MfaEvent>;

export type Emit = (req: Request, userId: string, event: MfaEventInput) => void;

/** Builds the emitter: a listener's failure (sync or async) must never break an authentication flow. */
export function createEmitter(
  onEvent: ((event: MfaEvent) => void | Promise<void>) | undefined,
  now: () => number,
): Emit {
  return (req, userId, event) => {
    if (!onEvent) return;
    try {
      const result = onEvent({ ...event, userId, at: now(), ip: req.ip } as MfaEvent);
      if (result && typeof result.then === 'function') result.then(undefined, () => {});
    } catch {
      // ignored on purpose, see above
    }
  };
}
