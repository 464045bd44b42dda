/** One call's deadline; `done` once it settled or expired, whichever came first. */
export interface Deadline {
  readonly at: number;
  done: boolean;
  readonly expire: () => void;
}

/**
 * The deadlines of a store's calls in flight, under one timer. Every call of a store gets the same
 * timeout, so deadlines come in the order the calls start: a queue whose oldest open entry arms the
 * timer. A call then costs a push and a flag rather than a setTimeout and a clearTimeout of its own
 * (on the verify routes, two of each per request). Times are `performance.now()`: monotonic, never
 * the injected clock. The timer is unref'd: a call in flight waits on its client's socket, which
 * keeps the process alive while it matters.
 */
export class Deadlines {
  private readonly queue: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Starts a call's clock: `expire` runs once the timeout has passed, unless `settle` came first. */
  start(expire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.timeoutMs, done: false, expire };
    this.queue.push(deadline);
    if (this.timer === undefined) this.arm();
    return deadline;
  }

  /** The call answered in time (or late, after it expired: then nothing happens). */
  settle(deadline: Deadline): void {
    deadline.done = true;
  }

  /** Calls in the queue, settled or not (for tests: it must not grow without bound). */
  get size(): number {
    return this.queue.length - this.head;
  }

  private arm(): void {
    const oldest = this.queue[this.head];
    if (oldest === undefined) return;
    this.timer = setTimeout(this.fire, Math.max(0, oldest.at - performance.now()));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const { queue } = this;
    while (this.head < queue.length) {
      const deadline = queue[this.head]!;
      if (!deadline.done && deadline.at > now) break;
      this.head++;
      if (!deadline.done) {
        deadline.done = true;
        deadline.expire();
      }
    }
    // Drop what was passed over: all of it when nothing is left, else once it is most of the array.
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  };
}
