import { MfaError } from '../../errors.js';
import { requireFromPackage } from '../../require-from-package.js';

type PhoneLibrary = typeof import('libphonenumber-js/mobile');
let library: PhoneLibrary | undefined;

/**
 * libphonenumber's metadata, loaded once when SMS is configured (or on first use): most apps have
 * SMS off and never pay for it.
 */
export function phoneLibrary(): PhoneLibrary {
  library ??= requireFromPackage<PhoneLibrary>('libphonenumber-js/mobile');
  return library;
}

export interface ParsedPhone {
  /** E.164, like +14155552671: what is stored and sent to. */
  number: string;
  /** ISO 3166-1 alpha-2 as libphonenumber identifies it (e.g. GG for some +44 numbers), if any. */
  country: string | undefined;
  /** For people: +1 415 555 2671. */
  display: string;
}

const bad = (sentence: string) => new MfaError('invalid_request', `\`phone\`: ${sentence}`);

/**
 * A typed phone number as E.164, or a 400 that says what to fix. Only international format is
 * accepted (no guessing the country from the request), and only numbers that can be mobile:
 * libphonenumber's mobile metadata refuses landlines where the numbering plan tells them apart.
 */
export function parsePhone(input: string, allowedCountries: readonly string[] | undefined): ParsedPhone {
  const typed = input.trim();
  if (!typed.startsWith('+')) {
    throw bad('enter the number in international format, with + and the country code, like +14155552671.');
  }
  if (!/^\+[0-9\s().-]+$/.test(typed)) {
    throw bad('use digits only after the +, like +14155552671 (spaces and dashes are fine).');
  }
  const parsed = phoneLibrary().parsePhoneNumberFromString(typed);
  if (!parsed?.isValid()) {
    throw bad('that is not a valid mobile number. Check the country code and the digits.');
  }
  // Strict on the country, never on the calling code alone: +1 also reaches premium-rate islands.
  if (allowedCountries && (parsed.country === undefined || !allowedCountries.includes(parsed.country))) {
    throw bad(
      `numbers from there cannot receive codes here. Allowed countries: ${allowedCountries.join(', ')}.`,
    );
  }
  return { number: parsed.number, country: parsed.country, display: parsed.formatInternational() };
}
