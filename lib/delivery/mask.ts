/**
 * Destinations as events and logs may show them: enough for a person to recognise their own
 * address or number, not enough to read it back.
 */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** `+14155552671` -> `+*******2671`: the last four digits, as banks and carriers show them. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 4) return '***';
  return `+${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}
