import {
  type Attributes,
  context,
  type Meter,
  metrics,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { MfaEvent } from '../events.js';
import { verifyRouteFactor } from './verify-route.js';

/** Options of `openTelemetry()`. */
export interface OpenTelemetryOptions {
  /** The meter counters are made on. Default: `metrics.getMeter('express-mfa')` (the global provider). */
  meter?: Meter;
  /** The tracer spans are started on. Default: `trace.getTracer('express-mfa')` (the global provider). */
  tracer?: Tracer;
  /** The app's own listener, called after the counters with every event. Default: none. */
  onEvent?: (event: MfaEvent) => void | Promise<void>;
}

/** What `openTelemetry()` gives the app to wire in. */
export interface MfaTelemetry {
  /** Pass as `createMfa({ onEvent })`: counts the events (and forwards them to `options.onEvent`). */
  onEvent: (event: MfaEvent) => void | Promise<void>;
  /**
   * Mount right before the router, on the same path (`app.use('/auth/mfa', telemetry.spans, mfa.router)`):
   * each verification request runs in a span `express-mfa <factor> verify`, ended with the answer's status.
   */
  spans: RequestHandler;
}

/**
 * OpenTelemetry for express-mfa: counters from the events and a span around every verification.
 * Counters (each with attribute `factor` where the event has one):
 * `express-mfa.verifications` (a factor verified), `express-mfa.failures` (a wrong code or assertion),
 * `express-mfa.lockouts` (a factor locked by its attempt limit), `express-mfa.sends` (an email or SMS
 * handed to the provider; also `purpose`), `express-mfa.delivery_failures` (also `reason`),
 * `express-mfa.sign_ins` (`mfa.signIn` outcomes: attribute `outcome`). Attributes never carry a
 * user id, an address or a code: they stay few and safe to export.
 *
 * Only this subpath loads `@opentelemetry/api` (an optional peer): an app that does not import it
 * pays nothing. Without a registered SDK the API's no-op meter and tracer make it nearly free.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): MfaTelemetry {
  const meter = options.meter ?? metrics.getMeter('express-mfa');
  const tracer = options.tracer ?? trace.getTracer('express-mfa');
  const counter = (name: string, description: string) =>
    meter.createCounter(`express-mfa.${name}`, { description });
  const verifications = counter('verifications', 'Second-factor verifications that succeeded');
  const failures = counter('failures', 'Verifications refused for a wrong code or assertion');
  const lockouts = counter('lockouts', 'Factors locked by their attempt limit');
  const sends = counter('sends', 'Emails and SMS handed to the provider');
  const deliveryFailures = counter('delivery_failures', 'Emails and SMS the provider did not take');
  const signIns = counter('sign_ins', 'mfa.signIn calls, by outcome');

  const onEvent = (event: MfaEvent) => {
    switch (event.type) {
      case 'verified':
        verifications.add(1, { factor: event.factor });
        break;
      case 'failed':
        failures.add(1, { factor: event.factor });
        break;
      case 'locked':
        lockouts.add(1, { factor: event.factor });
        break;
      case 'message_sent':
        sends.add(1, { factor: event.factor, purpose: event.purpose });
        break;
      case 'delivery_failed':
        deliveryFailures.add(1, { factor: event.factor, purpose: event.purpose, reason: event.reason });
        break;
      case 'sign_in':
        signIns.add(1, { outcome: event.outcome });
        break;
    }
    return options.onEvent?.(event);
  };

  const spans: RequestHandler = (req, res, next) => {
    const factor = verifyRouteFactor(req.method, req.path);
    if (factor === undefined) return next();
    const attributes: Attributes = { 'express-mfa.factor': factor, 'http.request.method': req.method };
    const span = tracer.startSpan(`express-mfa ${factor} verify`, { attributes });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const status = res.statusCode;
      span.setAttribute('http.response.status_code', status);
      // A refused code is an answer, not a fault: only server-side failures mark the span as an error.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (!res.writableFinished) span.setAttribute('express-mfa.aborted', true);
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(context.active(), span), next);
  };

  return { onEvent, spans };
}
