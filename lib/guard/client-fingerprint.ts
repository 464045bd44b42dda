import { isIP } from 'node:net';
import type { Request } from 'express';
import ipaddr from 'ipaddr.js';
import type { Keyring } from '../crypto.js';

/**
 * The network a client is on, as `sameClient` compares it: the /24 of an IPv4 address, the /48 of an
 * IPv6 one (an IPv4-mapped IPv6 address, `::ffff:a.b.c.d`, is its IPv4 address). Coarse on purpose:
 * a phone that moves between cells or a home router that renews its lease stays the same client,
 * while a cookie replayed from another network does not. Undefined when there is no usable address.
 */
export function networkOf(ip: string | undefined): string | undefined {
  // Only well-formed addresses: ipaddr.js also reads legacy forms like '1.2.3', no socket reports those.
  if (typeof ip !== 'string' || isIP(ip) === 0) return undefined;
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns an IPv4-mapped IPv6 address into its IPv4 address; zone ids (fe80::1%eth0) parse too.
    address = ipaddr.process(ip);
  } catch {
    return undefined;
  }
  if (address.kind() === 'ipv4') return `4:${(address as ipaddr.IPv4).octets.slice(0, 3).join('.')}`;
  return `6:${(address as ipaddr.IPv6).parts
    .slice(0, 3)
    .map((part) => part.toString(16))
    .join(':')}`;
}

/** Fingerprints the client of a request; undefined when it has no usable address. */
export type Fingerprint = (req: Request) => string | undefined;

/**
 * The client's network and User-Agent under a keyed hash. The session is plaintext in its store, and
 * a plain hash of a /24 and a User-Agent is quickly reversed by trying every network: keyed with the
 * app's `secret`, what the session keeps says nothing about where the user is. Truncated to 128 bits
 * (plus the key id), enough to tell clients apart and short enough to keep in every session.
 * `req.ip` is Express's, so the app's 'trust proxy' setting decides which address counts.
 */
export function clientFingerprint(keyring: Keyring): Fingerprint {
  // Parsing the address and the HMAC cost microseconds; a guard asks on every request, mostly for the
  // same few clients. A small bounded cache (in memory only, oldest entry out first) keeps that free.
  const cache = new Map<string, string | undefined>();
  const compute = (ip: string | undefined, userAgent: string) => {
    const network = networkOf(ip);
    if (network === undefined) return undefined;
    const hash = keyring.hash('client-binding', `${network}\n${userAgent}`);
    const dot = hash.indexOf('.');
    return hash.slice(0, dot + 1 + 22);
  };
  return (req) => {
    const userAgent = req.get('user-agent') ?? '';
    const key = `${req.ip}\n${userAgent}`;
    if (cache.has(key)) return cache.get(key);
    const fingerprint = compute(req.ip, userAgent);
    if (key.length <= MAX_CACHED_KEY) {
      if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(key, fingerprint);
    }
    return fingerprint;
  };
}

const CACHE_SIZE = 1000;
/** Longer User-Agents are hashed each time rather than kept: the cache stays under a megabyte. */
const MAX_CACHED_KEY = 512;

const FINGERPRINT = Symbol('express-mfa.fingerprint');
type WithFingerprint = Request & { [FINGERPRINT]?: Fingerprint };

/**
 * Lets what a verification leaves in the session (`verifiedState`) key the client's fingerprint with
 * this instance's secret: the router's first layer calls it, verifications only happen under the router.
 */
export function bindFingerprint(req: Request, fingerprint: Fingerprint): void {
  (req as WithFingerprint)[FINGERPRINT] = fingerprint;
}

/** The fingerprint of the client of `req`, or undefined outside the router or without an address. */
export function fingerprintOf(req: Request): string | undefined {
  return (req as WithFingerprint)[FINGERPRINT]?.(req);
}
