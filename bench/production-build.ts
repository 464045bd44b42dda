import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Where the bench server is compiled to: inside the checkout, so its imports find node_modules. */
const OUT = join(ROOT, 'bench', '.build');

/** The newest modification time (ms) of any file under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Production mode serves what users run: the library's built `dist/` (rebuilt with `npm run build`
 * when any file of lib/ is newer than it) and the bench server compiled to plain JavaScript, so the
 * measured process runs under `node` alone with NODE_ENV=production (no tsx loader, no source maps).
 * Returns the compiled server's path (bench/server-workers.ts is compiled next to it) and the file
 * URL of dist/index.js.
 */
export async function productionBuild(log: (line: string) => void): Promise<{ server: string; lib: string }> {
  const index = join(ROOT, 'dist', 'index.js');
  if (!existsSync(index) || statSync(index).mtimeMs < newest(join(ROOT, 'lib'))) {
    log('dist/ is missing or older than lib/: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  await build({
    entryPoints: [
      'server.ts',
      'server-workers.ts',
      'protocol.ts',
      'floor.ts',
      'totp-code.ts',
      'library-check.ts',
      'gc-time.ts',
    ].map((file) => join(ROOT, 'bench', file)),
    outdir: OUT,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  return { server: join(OUT, 'server.js'), lib: pathToFileURL(index).href };
}
