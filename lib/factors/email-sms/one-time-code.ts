import { randomString } from '../../crypto.js';

/** `length` decimal digits, each drawn with crypto.randomInt (unbiased). */
export const generateCode = (length: number) => randomString('0123456789', length);

/** The code as typed, without spaces and dashes; null when it cannot be a code of `length` digits. */
export function normalizeCode(input: string, length: number): string | null {
  const code = input.replace(/[\s-]/g, '');
  return code.length === length && /^[0-9]+$/.test(code) ? code : null;
}
