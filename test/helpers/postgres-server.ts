import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL: `initdb` + `pg_ctl` in a temp dir on a free port, or the server at
 * `DATABASE_URL` when that is set (then `stop`/`start` are unavailable and `close` only ends pools).
 */
export interface TestPostgres {
  /** A connection string for the server. */
  url: string;
  /** A new pool on the server (ended by `close()`). */
  pool(config?: pg.PoolConfig): pg.Pool;
  /** Stops the server at once (pg_ctl stop -m immediate), as a crash would. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The directory holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/<version>/bin. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('PostgreSQL is not installed: apt-get install postgresql (or set DATABASE_URL)');
  }
  return join(root, versions[0]!, 'bin');
}

/**
 * initdb refuses to run as root: as root, the server runs as the `postgres` system user (Debian's
 * postgresql package creates it) in a temp dir that user owns.
 */
function serverUser(): { uid: number; gid: number; name: string } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid, name: 'postgres' };
}

export async function startPostgres(): Promise<TestPostgres> {
  const pools: pg.Pool[] = [];
  const endPools = async () => {
    await Promise.all(pools.splice(0).map((p) => p.end().catch(() => {})));
  };
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    const refuse = async () => {
      throw new Error('cannot stop or start the server at DATABASE_URL');
    };
    return {
      url: fromEnv,
      pool(config = {}) {
        const p = new pg.Pool({ connectionString: fromEnv, ...config });
        p.on('error', () => {}); // idle clients die when a test stops the server: expected
        pools.push(p);
        return p;
      },
      stop: refuse,
      start: refuse,
      close: endPools,
    };
  }

  const bin = binDir();
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'express-mfa-pg-'));
  if (user) await chown(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const as = (command: string, args: string[]) =>
    user
      ? run('runuser', ['-u', user.name, '--', join(bin, command), ...args])
      : run(join(bin, command), args);

  const start = async () => {
    // fsync off: a test server need not survive a power cut. synchronous_commit stays on, so a
    // commit is in the WAL (the OS's cache) before it returns and survives `stop()`, a crash.
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    await as('pg_ctl', ['start', '-w', '-t', '30', '-D', data, '-l', join(dir, 'log'), '-o', options]);
  };
  const stop = async () => {
    await as('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', data]).catch(() => {});
  };

  try {
    await as('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    await start();
  } catch (error) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    pool(config = {}) {
      const p = new pg.Pool({ connectionString: url, ...config });
      p.on('error', () => {}); // idle clients die when a test stops the server: expected
      pools.push(p);
      return p;
    },
    stop,
    start,
    close: async () => {
      await endPools();
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
