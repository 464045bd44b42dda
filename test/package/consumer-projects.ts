import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const exec = promisify(execFile);
export const root = new URL('../..', import.meta.url).pathname;
const fixtures = join(root, 'test', 'package', 'fixtures');

/**
 * Consumer projects live outside the repository, so nothing resolves from our own node_modules
 * (an SDK a consumer did not install must stay missing). Installs from the npm registry are
 * cached here by the hash of what decides them; a warm run only swaps in the fresh tarball.
 */
const cacheRoot = join(tmpdir(), 'express-mfa-consumers');

/** The child processes get a clean environment: nothing of the test runner leaks into them. */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  if (!('NODE_ENV' in extra)) delete env.NODE_ENV;
  return env;
}

/** `npm pack` (which builds first), once per run; returns the tarball's path. */
export async function packTarball(): Promise<string> {
  const dir = join(root, '.tmp', 'pack');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root });
  return join(dir, JSON.parse(stdout)[0].filename);
}

/** Extracts the tarball as `node_modules/express-mfa` of `dir`, replacing what was there. */
export async function extractInto(dir: string, tarball: string): Promise<void> {
  const target = join(dir, 'node_modules', 'express-mfa');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  await exec('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
}

/**
 * A throwaway project with `dependencies` from the registry and express-mfa from the tarball (none
 * when `tarball` is undefined: a plain install of `dependencies`),
 * plus every fixture file. Installed once per distinct set of dependencies (ours included: a new
 * dependency of express-mfa means a new install), reused afterwards.
 */
export async function consumerProject(
  name: string,
  dependencies: Record<string, string>,
  tarball: string | undefined,
): Promise<string> {
  const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const manifest = {
    name: `consumer-${name}`,
    private: true,
    dependencies: tarball ? { ...dependencies, 'express-mfa': 'file:./express-mfa.tgz' } : dependencies,
  };
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        manifest,
        ours: [ours.dependencies, ours.peerDependencies, ours.peerDependenciesMeta],
        node: process.versions.node.split('.')[0],
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheRoot, `${name}-${key}`);
  const marker = join(dir, '.installed');
  if (existsSync(marker)) {
    if (tarball) await extractInto(dir, tarball);
  } else {
    // Projects of this name from earlier dependency sets are stale now.
    if (existsSync(cacheRoot)) {
      for (const old of readdirSync(cacheRoot)) {
        if (old.startsWith(`${name}-`)) rmSync(join(cacheRoot, old), { recursive: true, force: true });
      }
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (tarball) cpSync(tarball, join(dir, 'express-mfa.tgz'));
    // A real install: npm checks our peer ranges against what the consumer has (ERESOLVE otherwise).
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      env: consumerEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    writeFileSync(marker, `${new Date().toISOString()}\n`);
  }
  if (tarball) cpSync(fixtures, dir, { recursive: true });
  return dir;
}

/** Runs `node file` in `dir` and parses the JSON line it prints last. */
export async function runJson(dir: string, file: string, env: Record<string, string> = {}) {
  const { stdout } = await exec(process.execPath, [file], { cwd: dir, env: consumerEnv(env) });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** The README's Quick start, exactly as printed. */
export function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no ```ts block under "## Quick start"');
  return match[1]!;
}
