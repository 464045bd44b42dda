import { createRequire } from 'node:module';

/**
 * This file's path (CommonJS) or URL (ESM), from the stack: the one way both builds share, since
 * ESM has no `__filename` and CommonJS cannot even parse `import.meta`.
 */
function ownLocation(): string {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    const file = frames[0]?.getFileName();
    if (!file) throw new Error('express-mfa: cannot tell where it is installed');
    return file;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/**
 * Loads an optional peer dependency (a CommonJS SDK) synchronously, resolved from this package as a
 * static import would be. Missing, it throws one sentence that says what to install, instead of
 * a bare ERR_MODULE_NOT_FOUND at import time.
 */
export function requirePeer<T>(name: string, usedBy: string): T {
  try {
    return createRequire(ownLocation())(name) as T;
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${name}'`)) {
      throw new Error(`express-mfa: install ${name} to use ${usedBy} (npm install ${name}).`);
    }
    throw error;
  }
}
