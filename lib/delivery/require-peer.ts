import { requireFromPackage } from '../require-from-package.js';

/**
 * Loads an optional peer dependency (a CommonJS SDK) synchronously. Missing, it throws one sentence
 * that says what to install, instead of a bare ERR_MODULE_NOT_FOUND at import time.
 */
export function requirePeer<T>(name: string, usedBy: string): T {
  try {
    return requireFromPackage<T>(name);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${name}'`)) {
      throw new Error(`express-mfa: install ${name} to use ${usedBy} (npm install ${name}).`);
    }
    throw error;
  }
}
