/** What bench/run.ts and the server process (bench/server.ts) say to each other over IPC. */

/** The server's `secret` option (benchmark only: never a real secret). */
export const BENCH_MFA_SECRET = 'bench-only MFA secret, at least 32 characters long';

/** The server's WebAuthn relying party: the software authenticator signs for this origin (no browser is involved). */
export const BENCH_RP_ID = 'localhost';
export const BENCH_ORIGIN = 'http://localhost:3000';

export type ServerRequest =
  | { type: 'stats'; id: number }
  | { type: 'gc'; id: number }
  | { type: 'memory'; id: number }
  | { type: 'shutdown' };

export interface ServerStats {
  /** Requests the app has received (every path). */
  requests: number;
  /** Redis commands this process has sent, by command name (a script call counts once). */
  commands: Record<string, number>;
  /**
   * Round trips: commands sent with no other command issued since the event loop last polled for I/O
   * (a DEL and a SET issued together, both awaited, wait for Redis once). Exact only while one request
   * is in flight (run.ts's serial probe): under load, other requests' commands share turns.
   */
  roundTrips: number;
  /** CPU time this process has used (user + system), microseconds. */
  cpuMicros: number;
  /** Main-thread pauses for the garbage collector (PerformanceObserver 'gc' entries), microseconds. */
  gcMicros: number;
  /**
   * With several processes behind one port (bench/server-workers.ts): each worker's own figures; the
   * fields above are then their sums, plus the primary's CPU.
   */
  workers?: WorkerStats[];
}

export interface WorkerStats {
  pid: number;
  requests: number;
  cpuMicros: number;
}

/** The server process's memory (process.memoryUsage), bytes. */
export interface ServerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'gc'; id: number }
  | ({ type: 'memory'; id: number } & ServerMemory)
  | ({ type: 'stats'; id: number } & ServerStats);
