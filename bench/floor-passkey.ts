import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import { SoftwareAuthenticator } from '../test/helpers/software-authenticator.js';
import { BENCH_ORIGIN, BENCH_RP_ID } from './protocol.js';
import { post } from './users.js';

/**
 * A software authenticator with one registered credential: its id and its COSE public key, read by
 * SimpleWebAuthn's own registration check (as express-mfa stores it).
 */
export async function softwarePasskey(origin: string, rpId: string) {
  const authenticator = new SoftwareAuthenticator(origin);
  const registration = await generateRegistrationOptions({
    rpName: 'bench',
    rpID: rpId,
    userName: 'bench',
    attestationType: 'none',
  });
  const registered = await verifyRegistrationResponse({
    response: authenticator.createCredential(registration),
    expectedChallenge: registration.challenge,
    expectedOrigin: origin,
    expectedRPID: rpId,
  });
  if (!registered.verified) throw new Error('the software authenticator did not register');
  const { id, publicKey } = registered.registrationInfo.credential;
  return { authenticator, id, publicKey };
}

/**
 * The one assertion the passkey floor (bench/floor.ts, `/bench/floor-passkey-verify`) is sent again
 * and again, as a request body: a software authenticator's credential, registered with the server's
 * floor routes through `/bench/floor-passkey-setup` (its COSE key read by SimpleWebAuthn's own
 * registration check), and an assertion answering the challenge stored with it. First, in a
 * signed-in floor session (`cookie`), a forged assertion must be refused: the floor's figure must
 * time a check that can fail.
 */
export async function floorPasskeyBody(base: string, cookie: string): Promise<string> {
  const { authenticator, id, publicKey } = await softwarePasskey(BENCH_ORIGIN, BENCH_RP_ID);
  const challenge = Buffer.from('express-mfa bench floor passkey challenge').toString('base64url');
  const setup = await post(base, '/bench/floor-passkey-setup', {
    id,
    publicKey: Buffer.from(publicKey).toString('base64url'),
    challenge,
  });
  if (setup.json.ok !== true)
    throw new Error(`/bench/floor-passkey-setup answered ${JSON.stringify(setup.json)}`);
  const options = { challenge, rpId: BENCH_RP_ID, allowCredentials: [{ id, type: 'public-key' as const }] };
  const forged = authenticator.getAssertion(options, { badSignature: true });
  // post() throws on an answer other than 2xx: the refusal is the error it throws.
  const refused = await post(base, '/bench/floor-passkey-verify', { response: forged }, cookie).then(
    (answer) => `answered ${JSON.stringify(answer.json)}`,
    (error: Error) => error.message,
  );
  if (!/answered 401: .*"invalid_code"/.test(refused)) {
    throw new Error(`the passkey floor did not refuse a forged assertion: ${refused}`);
  }
  const response = authenticator.getAssertion(options);
  return JSON.stringify({ response });
}
