import { createRequire } from 'node:module';

/**
 * This file's path (CommonJS) or URL (ESM), from the stack: the one way both builds share, since
 * ESM has no `__filename` and CommonJS cannot even parse `import.meta`.
 */
function ownLocation(): string {
  const original = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    // An app may have turned stack traces off (stackTraceLimit = 0): one frame is all this needs.
    Error.stackTraceLimit = Math.max(1, Number(limit) || 0);
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    const file = frames[0]?.getFileName();
    if (!file) throw new Error('express-mfa: cannot tell where it is installed');
    return file;
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = limit;
  }
}

let load: NodeJS.Require | undefined;

/**
 * `require(name)` resolved from this package, as its own static import would be, in the ESM and the
 * CommonJS build alike: for modules loaded synchronously, but only when needed (optional SDKs, and
 * dependencies whose feature is off in most apps).
 */
export function requireFromPackage<T>(name: string): T {
  load ??= createRequire(ownLocation());
  return load(name) as T;
}
