import type { MfaCore } from '../../core.js';
import { MfaError } from '../../errors.js';
import { parseBody } from '../../http.js';
import { lazySchema, type Zod } from '../../lazy-schema.js';
import type { Routes } from '../../route-table.js';
import { normalizeEmail } from './recovery-code.js';
import { createRecoveryService } from './recovery-service.js';

const email = (z: Zod) =>
  z
    .string({ error: 'send the address as a JSON string, like { "email": "ada@example.com" }.' })
    .max(320, { error: 'an email address is at most 254 characters.' });
const startBody = lazySchema((z) => z.object({ email: email(z) }));
const completeBody = lazySchema((z) =>
  z.object({
    email: email(z),
    code: z
      .string({ error: 'send the code as a JSON string, like { "code": "abcd-efgh-jkmn-pqrs" }.' })
      .max(64, { error: 'a code is at most 64 characters.' }),
  }),
);

function address(input: string): string {
  const normal = normalizeEmail(input);
  if (normal === null) {
    throw new MfaError('invalid_request', '`email`: enter an email address, like ada@example.com.');
  }
  return normal;
}

/** One answer for every address: whether it has an account is none of the asker's business. */
const ACCEPTED = {
  ok: true,
  message: 'If an account uses this address, we have emailed it a recovery code.',
} as const;

/**
 * `/recovery/start {email}` and `/recovery/complete {email, code}`. Without `findUserByEmail` the
 * routes do not exist: the router answers 404 like any unknown route.
 */
export function recoveryRoutes(core: MfaCore, router: Routes): void {
  const recovery = core.config.recovery;
  if (!recovery) return;
  const service = createRecoveryService(core, recovery);

  router.post('/start', async (req, res) => {
    const { email: input } = await parseBody(startBody, req.body);
    const email = address(input);
    await service.admitClient(req);
    // The lookup and the sending run once the answer is out, so neither the answer nor its timing
    // depends on the account. 'close' also fires when the client hangs up early.
    res.once('close', () => {
      void service.request(req, email);
    });
    res.status(202).json(ACCEPTED);
  });

  router.post('/complete', async (req, res) => {
    const body = await parseBody(completeBody, req.body);
    const email = address(body.email);
    if (!req.session) {
      throw new MfaError('unavailable', 'The session store is unavailable. Try again shortly.');
    }
    const user = await service.redeem(req, email, body.code);
    const { until } = await service.grant(req, user);
    res.json({ ok: true, userId: user.id, recovery: { until } });
  });
}
