import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { RedisStore as SessionStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import supertest from 'supertest';
import { createMfa, type MfaEvent, RedisStore } from '../../lib/index.js';
import { openTelemetry } from '../../lib/telemetry/index.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { enrolTotp, SECRET, testClock, totpCode, wrongCode } from '../helpers/test-app.js';

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

/** Collects on demand: what an exporter would be handed. */
class TestReader extends MetricReader {
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

/** Sum of counter `name` per attribute set (as JSON), from one collection. */
async function counters(reader: TestReader, name: string): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) out[JSON.stringify(point.attributes)] = point.value as number;
    }
  }
  return out;
}

/** `recordsOn`: the Redis holding the MFA records (sessions stay on the shared one), so a test can stop it alone. */
function telemetryApp(forwarded: MfaEvent[], recordsOn: TestRedis = redis) {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const telemetry = openTelemetry({
    meter: meterProvider.getMeter('test'),
    tracer: tracerProvider.getTracer('test'),
    onEvent: (event) => {
      forwarded.push(event);
    },
  });
  const clock = testClock();
  const prefix = `otel${Math.random().toString(36).slice(2)}:`;
  const client = redis.client();
  const app = express();
  app.use(
    session({
      store: new SessionStore({ client, prefix: `${prefix}sess:` }),
      secret: 'session-secret',
      resave: false,
      saveUninitialized: false,
    }),
  );
  const mfa = createMfa({
    issuer: 'Acme',
    store: new RedisStore({
      client:
        recordsOn === redis
          ? client
          : recordsOn.client({ enableOfflineQueue: false, maxRetriesPerRequest: 0 }),
      prefix: `${prefix}mfa:`,
    }),
    secret: SECRET,
    getUser: (req) => req.session.user,
    onEvent: telemetry.onEvent,
    limits: { maxFailures: 2 },
    now: clock.now,
  });
  app.post('/test/login', express.json(), (req, res) => {
    req.session.regenerate(() => {
      req.session.user = { id: req.body.id };
      res.json({ ok: true });
    });
  });
  app.use('/auth/mfa', telemetry.spans, mfa.router);
  return { app, clock, reader, exporter };
}

test('events become counters by factor and every verification runs in a span ended with its status', async () => {
  const forwarded: MfaEvent[] = [];
  const { app, clock, reader, exporter } = telemetryApp(forwarded);
  const agent = supertest.agent(app);
  await agent.post('/test/login').send({ id: 'ada' }).expect(200);
  const { secret, backupCodes } = await enrolTotp(agent, clock);
  clock.advance(60_000);
  await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, clock) })
    .expect(200);
  await agent.post('/auth/mfa/backup-codes/verify').send({ code: backupCodes[0] }).expect(200);
  clock.advance(60_000);
  for (let i = 0; i < 2; i++) {
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: wrongCode(secret, clock, i * 1000) })
      .expect(401);
  }
  // Locked: even the right code is refused.
  await agent
    .post('/auth/mfa/totp/verify')
    .send({ code: totpCode(secret, clock) })
    .expect(429);

  assert.deepEqual(await counters(reader, 'express-mfa.verifications'), {
    '{"factor":"totp"}': 1,
    '{"factor":"backup_codes"}': 1,
  });
  assert.deepEqual(await counters(reader, 'express-mfa.failures'), { '{"factor":"totp"}': 2 });
  assert.deepEqual(await counters(reader, 'express-mfa.lockouts'), { '{"factor":"totp"}': 1 });
  // The app's own listener still gets every event.
  assert.deepEqual(
    forwarded.map((e) => e.type),
    ['enrolled', 'verified', 'backup_code_used', 'verified', 'failed', 'failed', 'locked'],
  );

  const spans = exporter.getFinishedSpans();
  // Setup and confirm are not verifications: no span for them.
  assert.deepEqual(
    spans.map((s) => [s.name, s.attributes['http.response.status_code']]),
    [
      ['express-mfa totp verify', 200],
      ['express-mfa backup_codes verify', 200],
      ['express-mfa totp verify', 401],
      ['express-mfa totp verify', 401],
      ['express-mfa totp verify', 429],
    ],
  );
  for (const span of spans) {
    // A refused code is an answer, not an error of the service.
    assert.equal(span.status.code, 0);
    assert.ok(['totp', 'backup_codes'].includes(String(span.attributes['express-mfa.factor'])));
    // Nothing that identifies the user or the code.
    assert.ok(!JSON.stringify(span.attributes).includes('ada'));
  }
});

test('a store outage during a verification marks its span as an error', async () => {
  const records = await startRedis();
  try {
    const { app, clock, exporter } = telemetryApp([], records);
    const agent = supertest.agent(app);
    await agent.post('/test/login').send({ id: 'bob' }).expect(200);
    const { secret } = await enrolTotp(agent, clock);
    clock.advance(60_000);
    await records.stop();
    await agent
      .post('/auth/mfa/totp/verify')
      .send({ code: totpCode(secret, clock) })
      .expect(503);
    const [span] = exporter.getFinishedSpans();
    assert.ok(span, 'no span');
    assert.equal(span.attributes['http.response.status_code'], 503);
    assert.equal(span.status.code, 2);
  } finally {
    await records.close();
  }
});

test('only the opentelemetry subpath imports @opentelemetry/api', () => {
  const lib = fileURLToPath(new URL('../../lib/', import.meta.url));
  const importers: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (readFileSync(path, 'utf8').includes("from '@opentelemetry/"))
        importers.push(path.slice(lib.length));
    }
  };
  walk(lib);
  assert.deepEqual(importers.sort(), ['telemetry/open-telemetry.ts']);
  assert.ok(!readFileSync(join(lib, 'index.ts'), 'utf8').includes('telemetry'));
});
