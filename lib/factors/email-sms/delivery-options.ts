import type { Request } from 'express';
import type { EmailSender, SmsSender } from '../../delivery/sender.js';
import { duration, fail, integer, optionalObject } from '../../option-validators.js';
import type { MfaUser } from '../../options.js';
import { MINUTE, SECOND } from '../../time.js';
import { EMAIL_TEMPLATES, type MessageTemplates, TEMPLATE_NAMES } from './messages.js';
import { phoneLibrary } from './phone.js';

export interface CodeOptions {
  /** Digits per code. Default 6 (NIST SP 800-63B's minimum for out-of-band codes). */
  length?: number;
  /** How long a code is valid, in ms. Default 5 minutes. */
  ttlMs?: number;
  /** Wrong tries one code survives before it is void. Default 5. */
  maxTries?: number;
  /** Wait between two sends to one user on one channel, in ms. Default 30 seconds. */
  resendCooldownMs?: number;
  /** Sends per user and channel within an hour. Default 10. */
  maxSendsPerHour?: number;
  /** Sends to one address or number within an hour, whichever user asks. Default 10. */
  maxSendsPerDestinationPerHour?: number;
  /** Longest wait for any sender, in ms; past it the send is a 502. Default 15 seconds. */
  sendTimeoutMs?: number;
}

export interface PhoneOptions {
  /**
   * ISO 3166-1 alpha-2 codes (`['US', 'CA']`) of the countries whose numbers may be bound. Default:
   * all. Numbers are matched by the country libphonenumber identifies (some +44 numbers are GG, JE
   * or IM), never by calling code alone, so allowing US does not allow +1 Caribbean numbers.
   */
  allowedCountries?: readonly string[];
}

export interface MessageOptions {
  /** Your templates for every language; each one you leave out keeps the English default. */
  templates?: Partial<MessageTemplates>;
  /** Templates per language tag (`de`, `pt-BR`): an exact tag wins, then the language (`pt`). */
  locales?: Record<string, Partial<MessageTemplates>>;
  /** Picks the language tag. Default: the user's `locale`, then the request's Accept-Language. */
  locale?: (req: Request, user: MfaUser | undefined) => string | undefined;
}

/** Templates per lower-cased language tag. */
export interface MessagesConfig {
  templates: Partial<MessageTemplates>;
  locales: Map<string, Partial<MessageTemplates>>;
  locale: MessageOptions['locale'] | undefined;
}

export interface DeliveryConfig {
  email: EmailSender | undefined;
  sms: SmsSender | undefined;
  codes: Required<CodeOptions>;
  messages: MessagesConfig;
  phone: { allowedCountries: readonly string[] | undefined };
}

const CODE_KEYS = [
  'length',
  'ttlMs',
  'maxTries',
  'resendCooldownMs',
  'maxSendsPerHour',
  'maxSendsPerDestinationPerHour',
  'sendTimeoutMs',
];

function sender<T>(value: unknown, name: string, shape: string, example: string): T | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { send?: unknown }).send !== 'function'
  ) {
    fail(`\`${name}\` must be a sender: an object with send(${shape}), like ${example}.`);
  }
  return value as T;
}

function templates(value: unknown, where: string): Partial<MessageTemplates> {
  const set = optionalObject(value, where, [...TEMPLATE_NAMES]);
  for (const [name, template] of Object.entries(set)) {
    if (template === undefined) continue;
    if (!EMAIL_TEMPLATES.has(name)) {
      if (typeof template !== 'function') fail(`\`${where}.${name}\` must be a function (values) => string.`);
      continue;
    }
    const t = optionalObject(template, `${where}.${name}`, ['subject', 'text', 'html']);
    for (const part of ['subject', 'text', 'html']) {
      if (part === 'html' && t.html === undefined) continue;
      if (typeof t[part] !== 'function') {
        fail(
          `\`${where}.${name}.${part}\` must be a function (values) => string; an email template has subject, text and optionally html.`,
        );
      }
    }
  }
  return set as Partial<MessageTemplates>;
}

function messages(value: unknown): MessagesConfig {
  const o = optionalObject(value, 'messages', ['templates', 'locales', 'locale']);
  const locales = new Map<string, Partial<MessageTemplates>>();
  if (
    o.locales !== undefined &&
    (typeof o.locales !== 'object' || o.locales === null || Array.isArray(o.locales))
  ) {
    fail('`messages.locales` must be an object of templates per language, like { de: { signInSms } }.');
  }
  for (const [tag, set] of Object.entries((o.locales ?? {}) as object)) {
    if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) {
      fail(`\`messages.locales\` keys are language tags like 'de' or 'pt-BR', got '${tag}'.`);
    }
    locales.set(tag.toLowerCase(), templates(set, `messages.locales.${tag}`));
  }
  if (o.locale !== undefined && typeof o.locale !== 'function') {
    fail('`messages.locale` must be a function, like (req, user) => user?.locale.');
  }
  return {
    templates: templates(o.templates, 'messages.templates'),
    locales,
    locale: o.locale as MessageOptions['locale'],
  };
}

function countries(value: unknown): readonly string[] | undefined {
  const o = optionalObject(value, 'phone', ['allowedCountries']);
  if (o.allowedCountries === undefined) return undefined;
  if (!Array.isArray(o.allowedCountries) || o.allowedCountries.length === 0) {
    fail(
      "`phone.allowedCountries` must be a non-empty list of country codes, like ['US', 'CA'] (omit it to allow all).",
    );
  }
  return o.allowedCountries.map((code: unknown) => {
    const upper = typeof code === 'string' ? code.toUpperCase() : '';
    if (!phoneLibrary().isSupportedCountry(upper as never)) {
      fail(
        `\`phone.allowedCountries\` has ${JSON.stringify(code)}, which is not an ISO 3166-1 alpha-2 code like 'US'.`,
      );
    }
    return upper;
  });
}

/** The email/SMS part of `parseOptions`: senders, code rules, templates and the phone allow-list. */
export function parseDeliveryOptions(o: Record<string, unknown>): DeliveryConfig {
  const codes = optionalObject(o.codes, 'codes', CODE_KEYS);
  return {
    email: sender<EmailSender>(
      o.email,
      'email',
      '{ to, subject, text, html }',
      "sendgridEmail({ apiKey, from }) from 'express-mfa/sendgrid'",
    ),
    sms: sender<SmsSender>(
      o.sms,
      'sms',
      '{ to, body }',
      "twilioSms({ accountSid, authToken, from }) from 'express-mfa/twilio'",
    ),
    codes: {
      length: integer(codes.length, 'codes.length', 6, 6, 10),
      ttlMs: duration(codes.ttlMs, 'codes.ttlMs', 5 * MINUTE),
      maxTries: integer(codes.maxTries, 'codes.maxTries', 5, 1, 100),
      resendCooldownMs: duration(codes.resendCooldownMs, 'codes.resendCooldownMs', 30 * SECOND),
      maxSendsPerHour: integer(codes.maxSendsPerHour, 'codes.maxSendsPerHour', 10, 1, 1000),
      maxSendsPerDestinationPerHour: integer(
        codes.maxSendsPerDestinationPerHour,
        'codes.maxSendsPerDestinationPerHour',
        10,
        1,
        1000,
      ),
      sendTimeoutMs: duration(codes.sendTimeoutMs, 'codes.sendTimeoutMs', 15 * SECOND),
    },
    messages: messages(o.messages),
    phone: { allowedCountries: countries(o.phone) },
  };
}
