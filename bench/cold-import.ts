import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Cold import cost: `import('express-mfa')` (the built package, ESM, passkeys and SMS off) against
 * `import('express')` alone, each in a fresh Node process, runs alternated so a noisy machine
 * affects both alike; medians and their ratio. Needs the build (`npm run build`).
 */
const root = new URL('..', import.meta.url).pathname;

// Each program times only its own import, from a fresh process (no module cache, warm disk cache).
const timed = (body: string) => `const t0 = performance.now(); ${body}; console.log(performance.now() - t0);`;
const programs = {
  express: timed("await import('express')"),
  'express-mfa': timed("await import('express-mfa')"),
  'express-mfa + createMfa': timed(`const { createMfa, MemoryStore } = await import('express-mfa');
    createMfa({ issuer: 'Acme', store: new MemoryStore(), secret: 'x'.repeat(32), getUser: () => undefined })`),
} as const;
type Name = keyof typeof programs;

export interface ColdImport {
  runs: number;
  node: string;
  /** Median ms per program. */
  medians: Record<Name, number>;
}

function once(name: Name): number {
  // Run from the package root: `express-mfa` resolves to itself through its own `exports`.
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', programs[name]], {
    cwd: root,
    encoding: 'utf8',
  });
  return Number(out.trim());
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export function coldImport(runs: number): ColdImport {
  if (!existsSync(`${root}dist/index.js`)) throw new Error('Build first: npm run build');
  const names = Object.keys(programs) as Name[];
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  for (const name of names) once(name); // warm the disk cache, discarded
  for (let i = 0; i < runs; i++) {
    // Rotate the order each round so none always runs first.
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]!;
      times[name].push(once(name));
    }
  }
  const medians = Object.fromEntries(names.map((n) => [n, median(times[n])])) as Record<Name, number>;
  return { runs, node: process.version, medians };
}

/** The ratio the cold-start target is judged on: express-mfa's import over express's. */
export const coldImportRatio = (c: ColdImport) => c.medians['express-mfa'] / c.medians.express;

export function coldImportLines(c: ColdImport): string[] {
  const base = c.medians.express;
  return [
    `cold import, median of ${c.runs} fresh processes each (Node ${c.node}):`,
    ...Object.entries(c.medians).map(
      ([name, m]) =>
        `  ${name.padEnd(24)} ${m.toFixed(0).padStart(5)} ms   ${(m / base).toFixed(2)}x express`,
    ),
  ];
}
