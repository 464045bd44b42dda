import type { Request } from 'express';
import type { MfaConfig, MfaUser } from '../../options.js';
import { preferredLocales } from './accept-language.js';
import {
  type CodeMessageValues,
  type EmailTemplate,
  englishMessages,
  escapeValues,
  type MessageTemplates,
  type NoticeValues,
} from './messages.js';

export interface EmailContent {
  subject: string;
  text: string;
  html?: string;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`express-mfa: the ${where} template must return a string`);
  return value;
}

/**
 * Renders the messages in the reader's language: the app's templates for the first matching
 * language tag, then the app's own defaults, then English.
 */
export function createMessageRenderer(config: Pick<MfaConfig, 'messages'>) {
  const { templates, locales, locale } = config.messages;

  function tags(req: Request, user: MfaUser | undefined): string[] {
    if (locales.size === 0) return [];
    if (locale) {
      const tag = locale(req, user);
      return typeof tag === 'string' ? [tag] : [];
    }
    const own = typeof user?.locale === 'string' ? [user.locale] : [];
    return [...own, ...preferredLocales(req.headers['accept-language'])];
  }

  function pick<K extends keyof MessageTemplates>(name: K, req: Request, user: MfaUser | undefined) {
    for (const tag of tags(req, user)) {
      const lower = tag.toLowerCase();
      const found = (locales.get(lower) ?? locales.get(lower.split('-')[0]!))?.[name];
      if (found) return found;
    }
    return templates[name] ?? englishMessages[name];
  }

  function email<V extends object>(template: EmailTemplate<V>, values: V, name: string): EmailContent {
    const content: EmailContent = {
      // One line: a subject with a line break would be a header injection for an SMTP sender.
      subject: text(template.subject(values), `${name}.subject`).replace(/[\r\n]+/g, ' '),
      text: text(template.text(values), `${name}.text`),
    };
    if (template.html) content.html = text(template.html(escapeValues(values)), `${name}.html`);
    return content;
  }

  return {
    signInEmail: (values: CodeMessageValues, req: Request, user: MfaUser | undefined) =>
      email(pick('signInEmail', req, user), values, 'signInEmail'),
    securityNoticeEmail: (values: NoticeValues, req: Request, user: MfaUser | undefined) =>
      email(pick('securityNoticeEmail', req, user), values, 'securityNoticeEmail'),
    recoveryEmail: (values: CodeMessageValues, req: Request, user: MfaUser | undefined) =>
      email(pick('recoveryEmail', req, user), values, 'recoveryEmail'),
    signInSms: (values: CodeMessageValues, req: Request, user: MfaUser | undefined) =>
      text(pick('signInSms', req, user)(values), 'signInSms'),
    phoneConfirmationSms: (values: CodeMessageValues, req: Request, user: MfaUser | undefined) =>
      text(pick('phoneConfirmationSms', req, user)(values), 'phoneConfirmationSms'),
  };
}

export type MessageRenderer = ReturnType<typeof createMessageRenderer>;
