import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake provider received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the fake answers: normally, with an error status and body, or never (to test timeouts). */
export type FakeMode = { kind: 'ok' } | { kind: 'error'; status: number; body: unknown } | { kind: 'hang' };

export interface FakeServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: ReceivedRequest[];
  mode: FakeMode;
  close(): Promise<void>;
}

/** A local HTTP server that records requests and answers `ok(request)` unless told otherwise. */
export async function startFakeServer(
  ok: (request: ReceivedRequest) => { status: number; body?: unknown },
): Promise<FakeServer> {
  const fake: FakeServer = {
    url: '',
    requests: [],
    mode: { kind: 'ok' },
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      fake.requests.push(request);
      const mode = fake.mode;
      if (mode.kind === 'hang') return;
      const answer = mode.kind === 'ok' ? ok(request) : mode;
      if (answer.body === undefined) res.writeHead(answer.status).end();
      else
        res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return fake;
}
