import { createExampleApp } from './app.js';
import { deliveryFromEnv } from './delivery.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}".`);
  process.exit(1);
}

const { app, close } = await createExampleApp({
  redisUrl: process.env.REDIS_URL || undefined,
  // Passkeys are bound to the origin the browser sees.
  origin: `http://localhost:${port}`,
  // Email and SMS codes: SendGrid/Twilio when their keys are set, else the dev outbox (/dev/outbox).
  delivery: await deliveryFromEnv(process.env, (line) => console.log(line)),
}).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

const server = app.listen(port, (err) => {
  if (err) {
    console.error(`Could not listen on port ${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`express-mfa example on http://localhost:${port}`);
});

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  server.close(() => {
    close().finally(() => process.exit(0));
  });
  server.closeIdleConnections();
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
