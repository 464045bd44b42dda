// The verify page's lockouts: the locked factor's section says which factor, counts down in minutes
// until it opens again, and offers the user's other factors meanwhile.
import { countdown, FACTOR_NAMES } from './feedback.js';

const SECTIONS = {
  totp: 'totp-section',
  webauthn: 'passkey-section',
  sms: 'sms-section',
  email: 'email-section',
  backup_codes: 'backup-section',
};
/** What the "use another way" links say for each factor. */
const OFFERS = {
  totp: 'a code from your authenticator app',
  webauthn: 'a passkey',
  sms: 'a text message',
  email: 'an email code',
  backup_codes: 'a backup code',
};
const stops = {};

export const sectionOf = (factor) => document.getElementById(SECTIONS[factor]);

/** Locks `factor`'s section until `until` (ms), or unlocks it when `until` is null or past. */
export function showLock(factor, until) {
  const section = sectionOf(factor);
  if (!section) return;
  stops[factor]?.();
  let box = section.querySelector('.lock');
  if (!box) {
    box = document.createElement('div');
    box.className = 'alert lock';
    box.setAttribute('role', 'alert');
    box.innerHTML = '<p class="lock-text"></p><p class="lock-others"></p>';
    section.querySelector('h2, details')?.after(box);
  }
  const controls = section.querySelectorAll('input, button:not(.lock-offer)');
  const setLocked = (locked) => {
    box.hidden = !locked;
    section.classList.toggle('locked', locked);
    for (const c of controls) if (!c.dataset.held) c.disabled = locked;
  };
  if (!until || until <= Date.now()) return setLocked(false);
  setLocked(true);
  renderOthers(box.querySelector('.lock-others'), factor);
  const name = FACTOR_NAMES[factor] ?? factor;
  stops[factor] = countdown(
    box.querySelector('.lock-text'),
    until,
    (wait) => `Too many wrong attempts: ${name} locked. Try again in ${wait}.`,
    () => setLocked(false),
  );
}

/** "Meanwhile, use a passkey or a backup code": buttons to the user's other, open factors. */
function renderOthers(el, locked) {
  const others = Object.keys(SECTIONS).filter((f) => {
    const s = sectionOf(f);
    return f !== locked && s && !s.hidden && !s.classList.contains('locked');
  });
  if (others.length === 0) {
    el.textContent = 'You have no other second factor here: wait, or recover your account by email.';
    return;
  }
  el.replaceChildren('Meanwhile, use ');
  others.forEach((f, i) => {
    if (i > 0) el.append(i === others.length - 1 ? ' or ' : ', ');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link lock-offer';
    b.textContent = OFFERS[f];
    b.addEventListener('click', () => {
      const section = sectionOf(f);
      const details = section.querySelector('details');
      if (details) details.open = true;
      section.scrollIntoView({ block: 'center' });
      section.querySelector('input:not([disabled]), button:not([disabled]):not(.lock-offer)')?.focus();
    });
    el.append(b);
  });
  el.append('.');
}
