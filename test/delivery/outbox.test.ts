import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { outboxEmail, outboxSms } from '../../lib/delivery/outbox.js';

const env = process.env.NODE_ENV;
afterEach(() => {
  if (env === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = env;
});

test('keeps messages newest first, bounded, as copies; one log line each', async () => {
  const lines: string[] = [];
  let t = 1000;
  const outbox = outboxEmail({ max: 2, log: (line) => lines.push(line), now: () => t++ });
  for (const n of [1, 2, 3])
    await outbox.send({ to: `u${n}@example.com`, subject: `s${n}`, text: `code ${n}00000` });
  const kept = outbox.messages();
  assert.deepEqual(
    kept.map((m) => [m.id, m.to, m.channel, m.at]),
    [
      [3, 'u3@example.com', 'email', 1002],
      [2, 'u2@example.com', 'email', 1001],
    ],
  );
  kept[0]!.text = 'changed';
  assert.equal(outbox.messages()[0]!.text, 'code 300000');
  assert.equal(lines.length, 3);
  assert.match(lines[2]!, /email to u3@example\.com: s3 \| code 300000/);
  outbox.clear();
  assert.deepEqual(outbox.messages(), []);
});

test('in production the log line shows a masked recipient and never the content', async () => {
  process.env.NODE_ENV = 'production';
  const lines: string[] = [];
  const email = outboxEmail({ log: (line) => lines.push(line) });
  const sms = outboxSms({ log: (line) => lines.push(line) });
  await email.send({ to: 'ada@example.com', subject: 'Code 482913', text: 'Your code is 482913' });
  await sms.send({ to: '+14155552671', body: '482913 is your code' });
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.ok(!line.includes('482913'), line);
    assert.ok(!line.includes('ada@') && !line.includes('4155552671'), line);
  }
  assert.match(lines[0]!, /email to a\*\*\*@example\.com/);
  assert.match(lines[1]!, /sms to \+\*{7}2671/);
  assert.equal(sms.messages()[0]!.text, '482913 is your code', 'the dev page still sees the message');
});

test('log: false is silent; bad options throw', async () => {
  const sms = outboxSms({ log: false });
  await sms.send({ to: '+14155552671', body: 'hi' });
  assert.equal(sms.messages().length, 1);
  assert.throws(() => outboxSms({ max: 0 }), /`max` must be a whole number/);
  assert.throws(() => outboxEmail({ log: 'yes' as never }), /`log` must be a function or false/);
});
