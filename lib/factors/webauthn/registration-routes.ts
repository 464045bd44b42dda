import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { emptyBody } from '../../bodies.js';
import { MfaError } from '../../errors.js';
import { parseBody } from '../../http.js';
import type { Routes } from '../../route-table.js';
import { beginUserCeremony, userChallenge, userChallengeMarker } from './challenges.js';
import { type PasskeyRecord, summarize } from './passkey-records.js';
import { registerBody } from './webauthn-bodies.js';
import { checkRegistration, registrationOptions } from './webauthn-ceremonies.js';
import { passkeyAttempt, refuse, type WebAuthnContext } from './webauthn-context.js';

/** Enough for every device a person owns; bounds what one account can make us store. */
export const MAX_PASSKEYS = 20;

const tooMany = () =>
  new MfaError('already_enrolled', `An account can have at most ${MAX_PASSKEYS} passkeys. Remove one first.`);

/** `POST /register/options` and `POST /register/verify`: adding a passkey. */
export function registrationRoutes(ctx: WebAuthnContext, router: Routes): void {
  const { core, config, records } = ctx;

  router.post('/register/options', async (req, res) => {
    await parseBody(emptyBody, req.body);
    const who = core.actor(req, { allowRecovery: true });
    // Adding a factor next to an existing one needs a fresh MFA: a stolen password alone must not do it.
    await core.requireFresh(req, who);
    const existing = await records.list(who.userId);
    if (existing.length >= MAX_PASSKEYS) throw tooMany();
    const userHandle = await records.userHandle(who.userId);
    const challenge = await beginUserCeremony(core, config, req, who.userId, 'register', { userHandle });
    const label = who.user?.email ?? who.user?.name ?? who.userId;
    res.json(
      await registrationOptions({
        config,
        challenge,
        userHandle,
        userName: label,
        displayName: who.user?.name ?? label,
        exclude: existing,
      }),
    );
  });

  router.post('/register/verify', async (req, res) => {
    const body = await parseBody(registerBody, req.body);
    const who = core.actor(req, { allowRecovery: true });
    await core.requireFresh(req, who);
    const pending = userChallenge(core, req, who.userId, 'register');
    const credential =
      pending?.userHandle === undefined
        ? null
        : await checkRegistration(config, body.response as RegistrationResponseJSON, pending.challenge);
    if (!pending?.userHandle || !credential) return refuse(ctx, req, who.userId);
    // Redeeming the challenge is the single use: of parallel submissions, exactly one gets past here.
    // It comes before the checks below, so that each answer they give costs a whole ceremony (else
    // one challenge would ask "is this credential id registered?" for free, again and again).
    await passkeyAttempt(ctx, req, who.userId, userChallengeMarker(who.userId, pending));
    // One credential, one account: sign-in finds the user by the credential id.
    if ((await records.owner(credential.id)) !== null) {
      throw new MfaError('already_enrolled', 'This passkey is already registered.');
    }
    const count = await records.count(who.userId);
    if (count >= MAX_PASSKEYS) throw tooMany();

    const now = core.now();
    const record: PasskeyRecord = {
      ...credential,
      name: body.name ?? `Passkey ${count + 1}`,
      userHandle: pending.userHandle,
      createdAt: now,
      lastUsedAt: null,
    };
    // A recovery session proves only control of the mailbox: its passkey may not sign in without a
    // password until it has been used as a second factor (see the sign-in route).
    if (!(await records.add(who.userId, record, { inRecovery: who.recovery, max: MAX_PASSKEYS }))) {
      throw tooMany();
    }
    const backupCodes = await core.issueBackupCodesIfNone(who.userId);
    await core.factorsChanged(req, who.userId, { type: 'enrolled', factor: 'webauthn' });
    // A recovery session stays limited (not elevated); the redeemed challenge is just tidied away.
    if (who.recovery && req.session.mfa) delete req.session.mfa.challenge;
    // Registering proves the passkey, like any confirmed enrolment.
    const signedIn = await core.finishEnrolment(req, res, who, 'webauthn', backupCodes);
    res.json({ ok: true, passkey: summarize(record), ...signedIn, ...(backupCodes ? { backupCodes } : {}) });
  });
}
