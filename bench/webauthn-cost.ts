/**
 * What checking one passkey assertion costs, apart from any route: the CPU of one call, for
 * SimpleWebAuthn's `verifyAuthenticationResponse` as express-mfa calls it, and for the signature
 * check inside it done three ways. The passkey step-up's floor is the TOTP floor (bench/floor.ts)
 * plus the first of these; the others say how much of it is the cryptography itself.
 *
 *   npx tsx bench/webauthn-cost.ts [--calls 2000] [--blocks 10] [--smoke]
 *
 * Kinds, interleaved in blocks, one call at a time (each awaited), CPU of this process per call:
 *   library     verifyAuthenticationResponse as the step-up calls it (bench/library-check.ts): parse,
 *               checks, COSE key to JWK, WebCrypto import + verify
 *   webcrypto   crypto.subtle.importKey (JWK) + verify: the library's signature check alone
 *   jwk-import  node:crypto createPublicKey (JWK) + verify, the key imported on every call
 *   cached-key  node:crypto verify with a KeyObject imported once: the signature check's minimum
 */
import { createHash, createPublicKey, type KeyObject, verify, webcrypto } from 'node:crypto';
import { parseArgs } from 'node:util';
import { type AuthenticationResponseJSON, generateAuthenticationOptions } from '@simplewebauthn/server';
import { softwarePasskey } from './floor-passkey.js';
import { libraryVerifies } from './library-check.js';
import { numberFlag } from './number-flag.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string' },
    blocks: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const smoke = values.smoke;
const calls = smoke ? 40 : numberFlag('calls', values.calls, 2000, 1);
const blocks = smoke ? 2 : numberFlag('blocks', values.blocks, 10, 1);

const ORIGIN = 'https://bench.example';
const RP_ID = 'bench.example';

const { authenticator, ...credential } = await softwarePasskey(ORIGIN, RP_ID);
const stored = authenticator.credentials.get(credential.id)!;
const jwk = stored.publicKey.export({ format: 'jwk' });

// One assertion, verified again and again: nothing here keeps state between calls (the counter is
// given as 0, as express-mfa gives it, so the library skips its counter check). A second one signs
// other data: every kind must refuse it, or its figure would time a check that cannot fail.
const options = await generateAuthenticationOptions({
  rpID: RP_ID,
  allowCredentials: [{ id: credential.id }],
});
const cachedKey: KeyObject = createPublicKey({ key: jwk, format: 'jwk' });

interface Input {
  response: AuthenticationResponseJSON;
  /** authenticatorData || SHA-256(clientDataJSON): what the signature covers. */
  signed: Buffer;
  der: Buffer;
  raw: Buffer;
}

function inputOf(response: AuthenticationResponseJSON): Input {
  const authData = Buffer.from(response.response.authenticatorData, 'base64url');
  const clientData = Buffer.from(response.response.clientDataJSON, 'base64url');
  const der = Buffer.from(response.response.signature, 'base64url');
  return {
    response,
    signed: Buffer.concat([authData, createHash('sha256').update(clientData).digest()]),
    der,
    raw: derToRaw(der),
  };
}

const good = inputOf(authenticator.getAssertion(options));
const forged = inputOf(authenticator.getAssertion(options, { badSignature: true }));

const kinds: Record<string, (input: Input) => Promise<boolean>> = {
  library: ({ response }) =>
    libraryVerifies(response, { challenge: options.challenge, origin: ORIGIN, rpId: RP_ID, ...credential }),
  webcrypto: async ({ signed, raw }) => {
    const key = await webcrypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'verify',
    ]);
    return webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, signed);
  },
  'jwk-import': async ({ signed, der }) =>
    verify('sha256', signed, createPublicKey({ key: jwk, format: 'jwk' }), der),
  'cached-key': async ({ signed, der }) => verify('sha256', signed, cachedKey, der),
};

/** An ECDSA signature from DER (what authenticators send) to r || s (what WebCrypto takes). */
function derToRaw(der: Buffer): Buffer {
  const rLength = der[3]!;
  const r = der.subarray(4, 4 + rLength);
  const s = der.subarray(6 + rLength);
  const fit = (n: Buffer) => {
    const trimmed = n[0] === 0 ? n.subarray(1) : n;
    return Buffer.concat([Buffer.alloc(32 - trimmed.length), trimmed]);
  };
  return Buffer.concat([fit(r), fit(s)]);
}

async function run(kind: string, count: number): Promise<number> {
  const call = kinds[kind]!;
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    if (!(await call(good))) throw new Error(`${kind}: the assertion did not verify`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

const names = Object.keys(kinds);
for (const name of names) {
  if (await kinds[name]!(forged)) throw new Error(`${name}: a forged signature verified`);
}
for (const name of names) await run(name, Math.max(20, Math.round(calls / 4))); // warm-up
const perBlock = Math.max(1, Math.round(calls / blocks));
const figures = new Map<string, number[]>(names.map((name) => [name, []]));
for (let block = 0; block < blocks; block++) {
  // A rotating order, so no kind always runs right after the same other.
  for (let i = 0; i < names.length; i++) {
    const name = names[(block + i) % names.length]!;
    figures.get(name)!.push(await run(name, perBlock));
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
console.log(
  `${blocks} blocks of ${perBlock} calls of each kind, interleaved, one at a time; CPU of this process per call${smoke ? ' (smoke: too few calls to compare)' : ''}:`,
);
console.log('');
console.log('| kind | µs/call (median of blocks) | blocks |');
console.log('| --- | ---: | --- |');
for (const name of names) {
  const xs = figures.get(name)!;
  console.log(`| ${name} | ${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(0)).join(' ')} |`);
}
