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
  /** What changed. */
  change: 'phone_added' | 'phone_removed';
  /** The phone number involved, masked: `+*******2671`. */
  phone: string;
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
}

export const TEMPLATE_NAMES = [
  'signInEmail',
  'signInSms',
  'phoneConfirmationSms',
  'securityNoticeEmail',
] as const satisfies readonly (keyof MessageTemplates)[];
export const EMAIL_TEMPLATES = new Set<string>(['signInEmail', 'securityNoticeEmail']);

const minutes = (n: number) => (n === 1 ? '1 minute' : `${n} minutes`);

const NOTICE_SENTENCE: Record<NoticeValues['change'], (phone: string) => string> = {
  phone_added: (phone) => `The phone number ${phone} can now receive sign-in codes for your account.`,
  phone_removed: (phone) => `The phone number ${phone} can no longer receive sign-in codes for your account.`,
};

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
    text: (v) =>
      `${NOTICE_SENTENCE[v.change](v.phone)}\n\n` +
      `If this was you, there is nothing to do. If it was not, sign in to ${v.issuer} and review your security settings now.`,
    html: (v) =>
      `<p>${NOTICE_SENTENCE[v.change](v.phone)}</p>` +
      `<p>If this was you, there is nothing to do. If it was not, sign in to ${v.issuer} and review your security settings now.</p>`,
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
