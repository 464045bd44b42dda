import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import supertest from 'supertest';
import { createMfa } from '../../lib/index.js';
import { RedisStore } from '../../lib/stores/redis-store.js';
import { StoreUnavailableError } from '../../lib/stores/store.js';
import { startRedis } from '../helpers/redis-server.js';
import { SECRET } from '../helpers/test-app.js';

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function recordingLogger() {
  const lines: string[] = [];
  return { lines, logger: { warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) } };
}

const notReadyLine = (why: RegExp) =>
  new RegExp(
    `^RedisStore: Redis is not ready \\(${why.source}\\): every MFA call answers 503 until it connects\\. Check the client's URL and that the Redis server runs\\.$`,
  );

describe('RedisStore whose client never connects', () => {
  const clients: { disconnect(): unknown }[] = [];
  after(() => {
    for (const client of clients) client.disconnect();
  });

  test('ioredis at a closed port: every route answers 503, and one sentence is logged for the outage', async () => {
    const port = await closedPort();
    // The default retryStrategy: the client keeps reconnecting, as an app's client would.
    const client = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    clients.push(client);
    const { lines, logger } = recordingLogger();
    const mfa = createMfa({
      issuer: 'Acme',
      store: new RedisStore({ client, logger }),
      secret: SECRET,
      getUser: (req) => req.session.user,
      logger,
    });
    const app = express();
    app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    app.post('/test/login', (req, res) => {
      req.session.user = { id: 'u1' };
      res.json({ ok: true });
    });
    app.use('/auth/mfa', mfa.router);
    const agent = supertest.agent(app);
    await agent.post('/test/login').expect(200);

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => agent.post('/auth/mfa/totp/setup').send({})),
    );
    answers.push(
      await agent.get('/auth/mfa/'),
      await agent.post('/auth/mfa/totp/verify').send({ code: '123456' }),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 503);
      assert.equal(answer.body.error, 'unavailable');
    }
    assert.notEqual(client.status, 'ready');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, notReadyLine(/client status "(connecting|reconnecting)"/));
  });

  test('node-redis at a closed port: one sentence, and the store still refuses at once', async () => {
    const port = await closedPort();
    const client = createClient({
      url: `redis://127.0.0.1:${port}`,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 50 },
    });
    client.on('error', () => {});
    // connect() keeps retrying against the closed port; the app goes on meanwhile.
    client.connect().catch(() => {});
    clients.push({ disconnect: () => client.destroy() });
    const { lines, logger } = recordingLogger();
    const store = new RedisStore({ client, logger });
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      await assert.rejects(store.get('{u:a}:k'), StoreUnavailableError);
      assert.ok(Date.now() - started < 100, 'refused at once');
    }
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, notReadyLine(/client is reconnecting/));
  });

  test('each outage is logged once: down, back (nothing logged), down again', async () => {
    const server = await startRedis();
    try {
      const client = server.client();
      client.on('error', () => {});
      const { lines, logger } = recordingLogger();
      const store = new RedisStore({ client, logger });
      await store.ready();
      await store.set('{u:b}:k', 'v');

      const waitFor = async (status: (s: string) => boolean) => {
        const deadline = Date.now() + 5000;
        while (!status(client.status) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.ok(status(client.status), `client status ${client.status}`);
      };
      await server.stop();
      await waitFor((s) => s !== 'ready');
      for (let i = 0; i < 3; i++) await assert.rejects(store.get('{u:b}:k'), StoreUnavailableError);
      assert.equal(lines.length, 1);

      await server.restart();
      await waitFor((s) => s === 'ready');
      await store.set('{u:b}:k', 'back');
      assert.equal(lines.length, 1, 'nothing is logged while it works');

      await server.stop();
      await waitFor((s) => s !== 'ready');
      for (let i = 0; i < 3; i++) await assert.rejects(store.get('{u:b}:k'), StoreUnavailableError);
      assert.equal(lines.length, 2, lines.join('\n'));
      for (const line of lines) assert.match(line, notReadyLine(/client status "[a-z]+"/));
    } finally {
      await server.close();
    }
  });
});
