import express from 'express';
import type { Redis } from 'ioredis';
import type supertest from 'supertest';
import { type Outbox, outboxEmail, outboxSms } from '../../../lib/delivery/outbox.js';
import type { MfaOptions } from '../../../lib/index.js';
import { makeTestApp } from '../../helpers/test-app.js';

/** The test app with both channels on dev outboxes, plus a route that opens a recovery session. */
export async function makeCodeApp(redis: Redis, overrides: Partial<MfaOptions> & { prefix?: string } = {}) {
  const email = outboxEmail({ log: false });
  const sms = outboxSms({ log: false });
  const t = await makeTestApp(redis, { email, sms, ...overrides });
  // What /recovery/complete will do: a clean session that may only enrol factors for a while.
  t.app.post('/test/recovery', express.json(), (req, res) => {
    req.session.regenerate(() => {
      req.session.mfa = { userId: req.body.id, recovery: { until: t.clock.now() + 10 * 60_000 } };
      res.json({ ok: true });
    });
  });
  return { ...t, email, sms };
}

/** The code in the newest message of an outbox. */
export function lastCode(outbox: Outbox): string {
  const code = /\b(\d{6,10})\b/.exec(outbox.messages()[0]?.text ?? '')?.[1];
  if (!code) throw new Error('no code in the outbox');
  return code;
}

/** A six-digit code that is not `code`. */
export const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** Sends an email code and verifies it: a fresh MFA for the agent's session. */
export async function verifyByEmail(agent: supertest.Agent, outbox: Outbox): Promise<void> {
  await agent.post('/auth/mfa/email/send').send({}).expect(200);
  await agent
    .post('/auth/mfa/email/verify')
    .send({ code: lastCode(outbox) })
    .expect(200);
}
