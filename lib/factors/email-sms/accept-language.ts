/** At most this many tags are read from a header: the rest cannot change the choice in practice. */
const MAX_TAGS = 10;

/**
 * The language tags of an Accept-Language header, most preferred first (RFC 9110 §12.5.4);
 * `*` and tags with q=0 are left out.
 */
export function preferredLocales(header: string | undefined): string[] {
  if (!header) return [];
  const tags: { tag: string; q: number; i: number }[] = [];
  for (const [i, part] of header.split(',').slice(0, MAX_TAGS).entries()) {
    const [tag = '', ...params] = part.trim().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(tag) || !(q > 0)) continue;
    tags.push({ tag, q, i });
  }
  return tags.sort((a, b) => b.q - a.q || a.i - b.i).map((t) => t.tag);
}
