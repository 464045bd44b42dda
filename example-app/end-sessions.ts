import type session from 'express-session';

type StoredSession = session.SessionData & { user?: { id: string }; id?: string };

/**
 * `endSessions` for express-mfa's account recovery: destroys every session of a user in the session
 * store. It reads all sessions (express-session's MemoryStore and connect-redis both offer `all`),
 * which suits this example; an app with many sessions would keep an index of session ids per user.
 */
export function sessionEnder(store: session.Store) {
  return async (userId: string): Promise<void> => {
    const all = store.all?.bind(store);
    if (!all) throw new Error('this session store cannot list sessions');
    const sessions = await new Promise<unknown>((resolve, reject) =>
      all((err, found) => (err ? reject(err) : resolve(found))),
    );
    // connect-redis answers a list of sessions carrying their `id`; MemoryStore an object keyed by id.
    const entries: [string, StoredSession][] = Array.isArray(sessions)
      ? (sessions as StoredSession[]).map((s) => [s.id ?? '', s])
      : Object.entries((sessions ?? {}) as Record<string, StoredSession>);
    const theirs = entries.filter(([id, s]) => id && (s.user?.id === userId || s.mfa?.userId === userId));
    await Promise.all(
      theirs.map(
        ([id]) =>
          new Promise<void>((resolve, reject) => store.destroy(id, (err) => (err ? reject(err) : resolve()))),
      ),
    );
  };
}
