/** Values a code message can show. */
export interface CodeMessageValues {
  /** The `issuer` option, e.g. 'Acme'. */
  issuer: string;
  code: string;
  /** How long the code is valid, in whole minutes (rounded up). */
  expiresInMinutes: number;
}

/** Values a security notice can show. */
export interface NoticeValues {
  issuer: string;
  /**
   * What changed: a factor was added or removed (`phone_added` / `phone_removed` for a phone number
   * whose masked number is known), backup codes were regenerated, every factor was reset by the
   * app's support, or the account was recovered by email (its factors were removed).
   */
  change:
    | 'factor_added'
    | 'factor_removed'
    | 'phone_added'
    | 'phone_removed'
    | 'backup_codes_regenerated'
    | 'factors_reset'
    | 'recovery_used';
  /** The factor involved, for `factor_added` / `factor_removed`: 'totp', 'webauthn', 'sms', 'backup_codes'. */
  factor?: string;
  /** The phone number involved, masked (`+*******2671`), for `phone_added` / `phone_removed`. */
  phone?: string;
}

/**
 * An email template. `subject` and `text` get the values as they are; `html` gets them
 * HTML-escaped, so an issuer like `A&B <Ltd>` cannot break or inject markup.
 */
export interface EmailTemplate<V> {
  subject(values: V): string;
  text(values: V): string;
  html?(values: V): string;
}

/** Every message express-mfa sends. Override any of them per app or per language (`messages` option). */
export interface MessageTemplates {
  /** Email with a code for signing in or confirming a sensitive action. */
  signInEmail: EmailTemplate<CodeMessageValues>;
  /** SMS with a code for signing in or confirming a sensitive action. */
  signInSms(values: CodeMessageValues): string;
  /** SMS with the code that confirms a new phone number. */
  phoneConfirmationSms(values: CodeMessageValues): string;
  /** Email telling the user that a factor on their account changed. */
  securityNoticeEmail: EmailTemplate<NoticeValues>;
  /** Email with the code that recovers an account whose factors were lost (`/recovery/start`). */
  recoveryEmail: EmailTemplate<CodeMessageValues>;
}

export const TEMPLATE_NAMES = [
  'signInEmail',
  'signInSms',
  'phoneConfirmationSms',
  'securityNoticeEmail',
  'recoveryEmail',
] as const satisfies readonly (keyof MessageTemplates)[];
export const EMAIL_TEMPLATES = new Set<string>(['signInEmail', 'securityNoticeEmail', 'recoveryEmail']);

const minutes = (n: number) => (n === 1 ? '1 minute' : `${n} minutes`);

/** How a notice names a factor to its owner. */
const FACTOR_NAMES: Record<string, string> = {
  totp: 'An authenticator app',
  webauthn: 'A passkey',
  sms: 'A phone number',
};

function noticeSentence(v: NoticeValues): string {
  const factor = FACTOR_NAMES[v.factor ?? ''] ?? 'A sign-in method';
  switch (v.change) {
    case 'phone_added':
      return `The phone number ${v.phone} can now receive sign-in codes for your account.`;
    case 'phone_removed':
      return `The phone number ${v.phone} can no longer receive sign-in codes for your account.`;
    case 'factor_added':
      return `${factor} was added to your account as a second factor.`;
    case 'factor_removed':
      return v.factor === 'backup_codes'
        ? 'Your backup codes were removed from your account and no longer work.'
        : `${factor} was removed from your account and no longer signs you in.`;
    case 'backup_codes_regenerated':
      return 'New backup codes were created for your account; the previous ones no longer work.';
    case 'factors_reset':
      return 'Every second factor on your account (authenticator apps, passkeys, phone numbers, backup codes) was removed.';
    case 'recovery_used':
      return 'Your account was recovered with a code sent to this address: its second factors (authenticator apps, passkeys, phone numbers, backup codes) were removed so new ones can be set up.';
  }
}

/** Recovery comes through this mailbox: if it was not the owner, the mailbox itself is the problem. */
const noticeAdvice = (v: NoticeValues) =>
  v.change === 'recovery_used'
    ? `If this was not you, someone can read your email: secure your email account, then contact ${v.issuer}.`
    : `If this was you, there is nothing to do. If it was not, sign in to ${v.issuer} and review your security settings now.`;

/** The defaults, in English. The code is never in a subject: subjects show on lock screens. */
export const englishMessages: MessageTemplates = {
  signInEmail: {
    subject: (v) => `Your ${v.issuer} verification code`,
    text: (v) =>
      `Your ${v.issuer} verification code is: ${v.code}\n\n` +
      `It expires in ${minutes(v.expiresInMinutes)} and works once. Do not share it with anyone.\n\n` +
      `If you did not ask for it, you can ignore this email; someone may know your password, so consider changing it.`,
    html: (v) =>
      `<p>Your ${v.issuer} verification code is:</p>` +
      `<p style="font-size:24px;font-weight:bold;letter-spacing:4px">${v.code}</p>` +
      `<p>It expires in ${minutes(v.expiresInMinutes)} and works once. Do not share it with anyone.</p>` +
      `<p>If you did not ask for it, you can ignore this email; someone may know your password, so consider changing it.</p>`,
  },
  signInSms: (v) =>
    `${v.code} is your ${v.issuer} verification code. It expires in ${minutes(v.expiresInMinutes)}. Do not share it.`,
  phoneConfirmationSms: (v) =>
    `${v.code} is your ${v.issuer} code to confirm this phone number. It expires in ${minutes(v.expiresInMinutes)}.`,
  securityNoticeEmail: {
    subject: (v) => `${v.issuer} security notice: your sign-in methods changed`,
    text: (v) => `${noticeSentence(v)}\n\n${noticeAdvice(v)}`,
    html: (v) => `<p>${noticeSentence(v)}</p><p>${noticeAdvice(v)}</p>`,
  },
  recoveryEmail: {
    subject: (v) => `Recover your ${v.issuer} account`,
    text: (v) =>
      `Someone asked to recover your ${v.issuer} account because its second factors were lost. Your recovery code is:\n\n${v.code}\n\n` +
      `It expires in ${minutes(v.expiresInMinutes)} and works once. Using it removes your current second factors ` +
      `(authenticator apps, passkeys, phone numbers, backup codes) so you can set up new ones.\n\n` +
      `If you did not ask for it, ignore this email: nothing changes without the code. Do not share it with anyone.`,
    html: (v) =>
      `<p>Someone asked to recover your ${v.issuer} account because its second factors were lost. Your recovery code is:</p>` +
      `<p style="font-size:20px;font-weight:bold;letter-spacing:2px;font-family:monospace">${v.code}</p>` +
      `<p>It expires in ${minutes(v.expiresInMinutes)} and works once. Using it removes your current second factors ` +
      `(authenticator apps, passkeys, phone numbers, backup codes) so you can set up new ones.</p>` +
      `<p>If you did not ask for it, ignore this email: nothing changes without the code. Do not share it with anyone.</p>`,
  },
};

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** The values with every string HTML-escaped, for `html` templates. */
export function escapeValues<V extends object>(values: V): V {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values))
    out[key] = typeof value === 'string' ? escapeHtml(value) : value;
  return out as V;
}
