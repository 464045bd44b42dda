import { label, packageOf, type Summary } from './profile-summary.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** A V8 sampling heap profile (`HeapProfiler.stopSampling`): its root node. */
export interface HeapProfile {
  head: HeapNode;
}

export const isHeapProfile = (profile: unknown): profile is HeapProfile =>
  typeof profile === 'object' && profile !== null && 'head' in profile;

/**
 * Bytes allocated by function and by package, in the shape of a CPU profile's summary with bytes
 * / 1000 where that has milliseconds (so "µs per request" reads as bytes per request). A sample is
 * charged to the function that allocated it, as self time is to the function that ran.
 */
export function summariseHeap(profile: HeapProfile): Summary {
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let total = 0;
  const stack = [profile.head];
  while (stack.length > 0) {
    const node = stack.pop()!;
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    const name = label(node);
    fn.set(name, (fn.get(name) ?? 0) + node.selfSize);
    const where = packageOf(node.callFrame.url);
    pkg.set(where, (pkg.get(where) ?? 0) + node.selfSize);
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, bytes]) => [k, bytes / 1000] as [string, number]);
  return { totalMs: total / 1000, selfByFunction: sorted(fn), selfByPackage: sorted(pkg), inclusive: [] };
}
