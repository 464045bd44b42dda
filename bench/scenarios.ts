import type { FloorRotation } from './floor-rotation.js';
import type { LoadResult, LoadSpec } from './load.js';
import type { PasskeyRotation } from './passkeys.js';
import type { SignInRotation } from './sign-ins.js';
import { STEP_MS } from './totp-code.js';
import type { BackupRotation, TotpRotation } from './users.js';

export const HTTP_SCENARIOS = [
  'hello',
  'session',
  'guard',
  'totp-verify',
  'floor-verify',
  'floor-totp-verify',
  'floor-passkey-verify',
  'backup-verify',
  'passkey-verify',
  'signin-verify',
] as const;
export type HttpScenario = (typeof HTTP_SCENARIOS)[number];

export interface ScenarioContext {
  connections: number;
  totpRotation: TotpRotation | undefined;
  backupRotation: BackupRotation | undefined;
  passkeyRotation: PasskeyRotation | undefined;
  signInRotation: SignInRotation | undefined;
  floorRotation: FloorRotation | undefined;
  /** The passkey floor's sessions, each sending one prepared assertion (bench/floor-passkey.ts). */
  floorPasskeyRotation: FloorRotation | undefined;
  /** Where passkey assertions and pending sign-ins are prepared (a server process other than the measured one, when there is one). */
  preparerUrl: string;
  /** The verified session shared by `session` and `guard` (re-verified before requireMfa(5 min) lapses). */
  freshCookie: () => Promise<string>;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What each scenario sends, prepared right before each of its runs. */
export function createScenarios({
  connections,
  totpRotation,
  backupRotation,
  passkeyRotation,
  signInRotation,
  floorRotation,
  floorPasskeyRotation,
  preparerUrl,
  freshCookie,
  log,
}: ScenarioContext) {
  /** The highest rate seen so far per scenario (req/s), to size the users a run needs. */
  const rates = new Map<HttpScenario, number>();
  const wanted = (name: HttpScenario, seconds: number, available: number) =>
    Math.min(Math.max(connections * 20, (rates.get(name) ?? 0) * seconds * 1.2), available * 0.9);

  /** The load and the request cap (users with a valid code) of one run of `name`. */
  async function prepare(
    name: HttpScenario,
    seconds: number,
  ): Promise<{ spec: LoadSpec; maxRequests?: number }> {
    switch (name) {
      case 'hello':
        return { spec: { method: 'GET', path: '/hello' } };
      case 'session':
        return { spec: { method: 'GET', path: '/session', headers: { cookie: await freshCookie() } } };
      case 'guard':
        return { spec: { method: 'GET', path: '/guard', headers: { cookie: await freshCookie() } } };
      case 'totp-verify': {
        const rotation = totpRotation!;
        let cap = rotation.capacity(connections);
        // Users who verified in this step can verify again from the next one: when fewer are free
        // than this run should need (at the rate seen so far), wait for the next step (< 31 s).
        const need = wanted(name, seconds, rotation.size);
        if (cap < need) {
          const wait = STEP_MS - (Date.now() % STEP_MS) + 200;
          log(
            `  totp-verify: ${cap} users free in this time step, ~${Math.round(need)} wanted; waiting ${(wait / 1000).toFixed(1)} s for the next`,
          );
          await sleep(wait);
          cap = rotation.capacity(connections);
        }
        return {
          spec: { method: 'POST', path: '/auth/mfa/totp/verify', source: rotation },
          maxRequests: cap,
        };
      }
      case 'floor-verify':
        return { spec: { method: 'POST', path: '/bench/floor-verify', source: floorRotation! } };
      case 'floor-totp-verify':
        return { spec: { method: 'POST', path: '/bench/floor-totp-verify', source: floorRotation! } };
      case 'floor-passkey-verify':
        return {
          spec: { method: 'POST', path: '/bench/floor-passkey-verify', source: floorPasskeyRotation! },
        };
      case 'backup-verify': {
        const rotation = backupRotation!;
        return {
          spec: { method: 'POST', path: '/auth/mfa/backup-codes/verify', source: rotation },
          maxRequests: rotation.capacity(connections),
        };
      }
      case 'passkey-verify': {
        // Each request answers a challenge its user fetched beforehand: fetching and signing happen
        // here, before the measured time, so the run measures /verify/verify alone.
        const rotation = passkeyRotation!;
        const t0 = performance.now();
        // Preparing is cheap next to a run cut short by running out: a third more than the rate seen.
        await rotation.prepare(preparerUrl, Math.ceil(1.3 * wanted(name, seconds, rotation.size)));
        log(
          `  passkey-verify: ${rotation.capacity()} assertions ready (${Math.round(performance.now() - t0)} ms to prepare)`,
        );
        return {
          spec: { method: 'POST', path: '/auth/mfa/webauthn/verify/verify', source: rotation },
          maxRequests: rotation.capacity(),
        };
      }
      case 'signin-verify': {
        // Each request completes a pending sign-in its user started beforehand (the app's password
        // step and mfa.signIn, here, before the measured time): the run measures /totp/verify alone.
        const rotation = signInRotation!;
        const need = wanted(name, seconds, rotation.size);
        if (rotation.free() < need + connections) {
          const wait = STEP_MS - (Date.now() % STEP_MS) + 200;
          log(
            `  signin-verify: ${rotation.free()} users free in this time step, ~${Math.round(need)} wanted; waiting ${(wait / 1000).toFixed(1)} s for the next`,
          );
          await sleep(wait);
        }
        const t0 = performance.now();
        await rotation.prepare(preparerUrl, Math.ceil(1.3 * need) + connections);
        log(
          `  signin-verify: ${rotation.capacity(connections)} pending sign-ins ready (${Math.round(performance.now() - t0)} ms to prepare)`,
        );
        return {
          spec: { method: 'POST', path: '/auth/mfa/totp/verify', source: rotation },
          maxRequests: rotation.capacity(connections),
        };
      }
    }
  }

  /** Feeds back a finished run (warm-up or measured), to size the next ones. */
  function observed(name: HttpScenario, load: LoadResult): void {
    if (load.durationS > 0) rates.set(name, Math.max(rates.get(name) ?? 0, load.responses / load.durationS));
  }

  return { prepare, observed };
}
