import type { PoolPick, SoakPool } from './soak-pool.js';

export type Kind = 'guard' | 'right' | 'wrong';
export const KINDS: readonly Kind[] = ['guard', 'right', 'wrong'];

/**
 * The soak's steady mix, one request after another across all connections: half `GET /guard` on a
 * verified session, half `POST /auth/mfa/totp/verify`, of which one in five carries a wrong code.
 */
const CYCLE: readonly Kind[] = [
  'guard',
  'right',
  'guard',
  'right',
  'guard',
  'right',
  'guard',
  'right',
  'guard',
  'wrong',
];

/** Share of the mix that are verifications (each takes a user from the pool). */
export const VERIFY_SHARE = CYCLE.filter((k) => k !== 'guard').length / CYCLE.length;

export interface MixRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What one request was, so its answer can be judged. */
export interface Sent {
  kind: Kind;
  pick?: PoolPick;
}

const EXPECTED: Record<Kind, { status: number; body: string }> = {
  guard: { status: 200, body: '"ok":true' },
  right: { status: 200, body: '"ok":true' },
  // A wrong code: the one answer for wrong, expired and used codes (lib/limits.ts's invalidCode).
  wrong: { status: 401, body: '"error":"invalid_code"' },
};

/**
 * Decides each request of the mix and judges each answer against the one it must get: a right code
 * 200, a wrong code 401 `invalid_code`, the guard 200. Anything else is an unexpected answer.
 */
export class SoakMix {
  private slot = 0;
  /** Requests of the mix by kind, as sent. */
  readonly sent: Record<Kind, number> = { guard: 0, right: 0, wrong: 0 };
  /** Answers that were the expected one, by kind (for `wrong`: refused with invalid_code). */
  readonly expected: Record<Kind, number> = { guard: 0, right: 0, wrong: 0 };
  /** Verifications for which the pool had no user (sent as a guard request instead): the pool was too small. */
  starved = 0;
  /** When the first few of them happened (Date.now()), for the report. */
  readonly starvedAt: number[] = [];
  /** The first few unexpected answers, for the report. */
  readonly unexpected: string[] = [];
  unexpectedCount = 0;

  constructor(
    private readonly pool: SoakPool,
    private readonly guardCookie: () => string,
  ) {}

  next(): { request: MixRequest; sent: Sent } {
    let kind = CYCLE[this.slot]!;
    this.slot = (this.slot + 1) % CYCLE.length;
    let pick: PoolPick | undefined;
    if (kind !== 'guard') {
      pick = kind === 'right' ? this.pool.pickRight() : this.pool.pickWrong();
      if (!pick) {
        this.starved++;
        if (this.starvedAt.length < 10) this.starvedAt.push(Date.now());
        kind = 'guard';
      }
    }
    this.sent[kind]++;
    if (!pick) {
      return {
        request: { method: 'GET', path: '/guard', headers: { cookie: this.guardCookie() }, body: '' },
        sent: { kind },
      };
    }
    return {
      request: {
        method: 'POST',
        path: '/auth/mfa/totp/verify',
        headers: { 'content-type': 'application/json', cookie: pick.user.cookie },
        body: pick.body,
      },
      sent: { kind, pick },
    };
  }

  /** Judges one answer; true when it was the expected one. */
  answer(sent: Sent, status: number, body: string, setCookie: string | string[] | undefined): boolean {
    const want = EXPECTED[sent.kind];
    const ok = status === want.status && body.includes(want.body);
    if (sent.pick) this.pool.answered(sent.pick, ok, setCookie);
    if (ok) this.expected[sent.kind]++;
    else {
      this.unexpectedCount++;
      if (this.unexpected.length < 5) {
        this.unexpected.push(`${sent.kind}: ${status} ${body.slice(0, 160)} (wanted ${want.status})`);
      }
    }
    return ok;
  }
}
