import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { emptyBody } from '../../bodies.js';
import { withReturnTo } from '../../guard/return-to.js';
import { parseBody } from '../../http.js';
import type { Routes } from '../../route-table.js';
import { beginUserCeremony, userChallenge } from './challenges.js';
import { assertionBody } from './webauthn-bodies.js';
import { authenticationOptions, checkAssertion } from './webauthn-ceremonies.js';
import { noPasskeys, refuse, useAsSecondFactor, type WebAuthnContext } from './webauthn-context.js';

/** `POST /verify/options` and `POST /verify/verify`: a passkey as second factor or step-up. */
export function verificationRoutes(ctx: WebAuthnContext, router: Routes): void {
  const { core, config, records } = ctx;

  router.post('/verify/options', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: false, allowPending: true });
    const passkeys = await records.list(who.userId);
    if (passkeys.length === 0) throw noPasskeys();
    const challenge = await beginUserCeremony(core, config, req, who.userId, 'verify');
    // A second factor proves possession; user verification is welcome but not demanded here.
    res.json(
      await authenticationOptions({ config, challenge, allow: passkeys, userVerification: 'preferred' }),
    );
  });

  router.post('/verify/verify', async (req, res) => {
    const { response, rememberDevice } = await parseBody(assertionBody, req.body);
    const who = core.actor(req, { allowRecovery: false, allowPending: true });
    const pending = userChallenge(core, req, who.userId, 'verify');
    // Only this user's passkeys are looked at: an attacker's own passkey cannot answer the victim's challenge.
    // The record and the index in one round trip. A removal landing after these reads orders after
    // this verification (its deletes come last); one that landed before is seen by the index.
    const [record, listed] = await Promise.all([
      records.forAssertion(who.userId, response.id),
      records.ids(who.userId),
    ]);
    if (!record && listed.length === 0) throw noPasskeys();
    const assertion =
      pending && record
        ? await checkAssertion({
            config,
            response: response as AuthenticationResponseJSON,
            challenge: pending.challenge,
            record,
            requireUserVerification: false,
          })
        : null;
    // WebAuthn §7.2 step 6: with the user identified beforehand, a user handle, if sent, must be theirs.
    const handle = response.response.userHandle;
    // Every refusal, like the success below, ends in the user's attempt: counted, and 429 once locked.
    if (!pending || !record || !assertion || (handle && handle !== record.userHandle)) {
      return refuse(ctx, req, who.userId);
    }
    // Single use and the signature counter, in one atomic step: see useAsSecondFactor.
    await useAsSecondFactor(ctx, req, who.userId, pending, listed.includes(record.id), record.id, assertion);
    // Used as a second factor by a user the app signed in itself: a passkey registered in a recovery
    // session has now proven to belong with the password, so it may sign in without one. That and the
    // use's note travel with the session's regeneration (one round trip); if either fails, so does
    // the verification (503, no new session), and the next one writes both again.
    const bookkeeping = Promise.all([
      records.noteUse(who.userId, record.id, { at: core.now(), backedUp: assertion.backedUp }),
      records.confirm(who.userId, record.id),
    ]);
    const outcome = await core.finishVerification(req, res, who, 'webauthn', { rememberDevice }, bookkeeping);
    core.emit(req, who.userId, { type: 'verified', factor: 'webauthn' });
    res.json(withReturnTo(req, { ok: true, ...outcome }));
  });
}
