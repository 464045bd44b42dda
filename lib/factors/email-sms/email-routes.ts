import { codeBody, emptyBody } from '../../bodies.js';
import type { MfaCore } from '../../core.js';
import { maskEmail } from '../../delivery/mask.js';
import { MfaError } from '../../errors.js';
import { withReturnTo } from '../../guard/return-to.js';
import { parseBody } from '../../http.js';
import type { Routes } from '../../route-table.js';
import type { CodeTarget } from './code-service.js';
import { createCodeService } from './code-service.js';
import { emailAddressOf } from './email-address.js';
import { createMessageRenderer } from './render-message.js';

/** `POST /email/send` and `POST /email/verify`: a code to the signed-in user's address on file. */
export function emailRoutes(core: MfaCore, router: Routes): void {
  // Without a sender the routes do not exist: the router answers 404 like any unknown route.
  if (!core.config.email) return;
  const codes = createCodeService(core);
  const render = createMessageRenderer(core.config);

  /** The request cannot name an address: the code goes only to the one the app has on file. */
  function target(req: Parameters<typeof core.actor>[0]) {
    // At sign-in an emailed code counts only with `signIn.emailCodes`; a setup-only sign-in uses it
    // as the fresh MFA that adding a first factor needs.
    const who = core.actor(req, {
      allowRecovery: false,
      allowPending: core.config.signIn.emailCodes,
      allowEnrol: true,
    });
    const address = emailAddressOf(who.user);
    if (!address) throw new MfaError('not_enrolled', 'This account has no email address to send a code to.');
    const t: CodeTarget = {
      userId: who.userId,
      channel: 'email',
      purpose: 'sign_in',
      destination: address.toLowerCase(),
    };
    return { who, address, t };
  }

  router.post('/send', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const { who, address, t } = target(req);
    const { expiresAt } = await codes.send(req, t, (values) => ({
      to: address,
      ...render.signInEmail(values, req, who.user),
    }));
    res.json({
      ok: true,
      sentTo: maskEmail(address),
      expiresAt,
      resendAfter: Math.ceil(core.config.codes.resendCooldownMs / 1000),
    });
  });

  router.post('/verify', async (req, res) => {
    const { code, rememberDevice } = await parseBody(codeBody, req.body);
    const { who, t } = target(req);
    await codes.redeem(req, t, code);
    const outcome = await core.finishVerification(req, res, who, 'email', { rememberDevice });
    core.emit(req, who.userId, { type: 'verified', factor: 'email' });
    res.json(withReturnTo(req, { ok: true, ...outcome }));
  });
}
