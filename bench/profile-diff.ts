/**
 * Where the extra CPU of one route over another goes: self time per request by package and by
 * function in two V8 CPU profiles, and B minus A, largest differences first (idle excluded). Given two
 * heap profiles (serial-compare's --heap-profile), the same for bytes allocated.
 *
 *   npx tsx bench/profile-diff.ts A.cpuprofile B.cpuprofile --requests N [--requests-b M] [--top 40]
 *
 * Each profile should hold only its route's requests, N of them (M for B when it differs): the
 * profiles of `bench/serial-compare.ts --step-up --only A --profile ...` and `--only floor`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isHeapProfile, summariseHeap } from './heap-summary.js';
import { type Profile, summarise } from './profile-summary.js';

const { values, positionals } = parseArgs({
  options: {
    requests: { type: 'string' },
    'requests-b': { type: 'string' },
    top: { type: 'string', default: '40' },
  },
  allowPositionals: true,
});
const [fileA, fileB] = positionals;
const requestsA = Number(values.requests);
const requestsB = Number(values['requests-b'] ?? values.requests);
if (!fileA || !fileB || !(requestsA > 0) || !(requestsB > 0)) {
  throw new Error(
    'usage: profile-diff.ts A.cpuprofile B.cpuprofile --requests N [--requests-b M] [--top 40]',
  );
}
const top = Number(values.top);
const read = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const profileA = read(fileA);
const profileB = read(fileB);
const heap = isHeapProfile(profileA);
if (heap !== isHeapProfile(profileB)) {
  throw new Error('profile-diff compares two CPU profiles or two heap profiles, not one of each');
}
const load = (profile: unknown) =>
  isHeapProfile(profile) ? summariseHeap(profile) : summarise(profile as Profile, Number.POSITIVE_INFINITY);
const a = load(profileA);
const b = load(profileB);
const unit = heap ? 'bytes' : 'µs';

/** µs per request, A and B, and their difference, for every key of either list. */
function diff(listA: [string, number][], listB: [string, number][]) {
  const perA = new Map(listA.map(([k, ms]) => [k, (ms * 1000) / requestsA]));
  const perB = new Map(listB.map(([k, ms]) => [k, (ms * 1000) / requestsB]));
  return [...new Set([...perA.keys(), ...perB.keys()])]
    .map((k) => ({ k, a: perA.get(k) ?? 0, b: perB.get(k) ?? 0 }))
    .map((row) => ({ ...row, d: row.b - row.a }))
    .sort((x, y) => Math.abs(y.d) - Math.abs(x.d))
    .slice(0, top);
}
const cell = (n: number) => n.toFixed(1).padStart(8);
const busyA = (a.totalMs * 1000) / requestsA;
const busyB = (b.totalMs * 1000) / requestsB;
const out = [
  `${heap ? 'allocated' : 'busy CPU'} per request: A ${busyA.toFixed(0)} ${unit}, B ${busyB.toFixed(0)} ${unit}, B - A ${(busyB - busyA).toFixed(0)} ${unit}`,
  '',
  `${heap ? 'allocated' : 'self time'} by package, ${unit} per request:   B - A        A        B`,
  ...diff(a.selfByPackage, b.selfByPackage).map((r) => `  ${cell(r.d)} ${cell(r.a)} ${cell(r.b)}  ${r.k}`),
  '',
  `${heap ? 'allocated' : 'self time'} by function, ${unit} per request:  B - A        A        B`,
  ...diff(a.selfByFunction, b.selfByFunction).map((r) => `  ${cell(r.d)} ${cell(r.a)} ${cell(r.b)}  ${r.k}`),
];
process.stdout.write(`${out.join('\n')}\n`);
