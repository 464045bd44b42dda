import type { Redis } from 'ioredis';

/**
 * Counts the Redis round trips a client waits for: commands issued before the event loop next polls
 * for I/O are in flight together (no answer can arrive in between), so they count as one. The same
 * rule as the benchmark's probe (bench/server.ts), here for one request in a test.
 */
export function countRoundTrips(client: Redis): { readonly count: number; stop(): void } {
  const original = client.sendCommand;
  let count = 0;
  let turnOpen = false;
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    if (!turnOpen) {
      turnOpen = true;
      count++;
      setImmediate(() => {
        turnOpen = false;
      });
    }
    return original.apply(client, args);
  }) as Redis['sendCommand'];
  return {
    get count() {
      return count;
    },
    stop() {
      client.sendCommand = original;
    },
  };
}
