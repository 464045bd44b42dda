/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile DIR`): self time by function and by
 * package, and total (inclusive) time of the functions that matter for a request.
 *
 *   npx tsx bench/profile-summary.ts DIR/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Summary {
  totalMs: number;
  selfByFunction: [string, number][];
  selfByPackage: [string, number][];
  inclusive: [string, number][];
}

export function packageOf(url: string): string {
  if (url === '') return '(native/V8)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const lib = url.indexOf('/lib/');
  if (lib >= 0 && !url.includes('node_modules')) return `express-mfa ${url.slice(lib + 1)}`;
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url;
}

export const label = (node: Pick<ProfileNode, 'callFrame'>) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.split('/').slice(-2).join('/');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
};

export function summarise(profile: Profile, top = 25): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const idle = profile.nodes.find((n) => n.callFrame.functionName === '(idle)');
  const busyUs = totalUs - (idle ? (self.get(idle.id) ?? 0) : 0);

  const fnSelf = new Map<string, number>();
  const pkgSelf = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    if (node === idle) continue;
    fnSelf.set(label(node), (fnSelf.get(label(node)) ?? 0) + us);
    const pkg = packageOf(node.callFrame.url);
    pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id, depth = 0; cur !== undefined && depth < 10_000; depth++) {
      const n = byId.get(cur)!;
      const name = label(n);
      if (!seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
      cur = parent.get(cur);
    }
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => [k, us / 1000] as [string, number]);
  return {
    totalMs: busyUs / 1000,
    selfByFunction: sorted(fnSelf),
    selfByPackage: sorted(pkgSelf),
    inclusive: sorted(inclusive),
  };
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' } },
    allowPositionals: true,
  });
  for (const file of positionals) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top));
    const pct = (ms: number) => `${((ms / s.totalMs) * 100).toFixed(1).padStart(5)}%`;
    console.log(`${file}: ${s.totalMs.toFixed(0)} ms busy`);
    console.log('\nself time by package:');
    for (const [k, ms] of s.selfByPackage) console.log(`  ${pct(ms)}  ${k}`);
    console.log('\nself time by function:');
    for (const [k, ms] of s.selfByFunction) console.log(`  ${pct(ms)}  ${k}`);
    console.log('\ninclusive time:');
    for (const [k, ms] of s.inclusive) console.log(`  ${pct(ms)}  ${k}`);
  }
}
