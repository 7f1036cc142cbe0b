/**
 * W3C trace context (`traceparent`) on messages, so a request that enters through the host API
 * can be followed through every component it reaches. A message carries the traceparent of the
 * span that sent it; handling it is a new span (its parent: the sender's), and what the handler
 * sends carries that new span. Messages without a traceparent cost nothing.
 *
 * Spans are reported only where an exporter is configured (`ComponentHostOptions.onSpan`; the
 * daemon writes them to its JSON log). OTLP export is left to a collector reading that log: the
 * OpenTelemetry SDK would have to run in every scheduler thread to export from there.
 */

import { randomFillSync } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceContext {
  readonly traceId: string;
  /** The span that sent the message: the parent of the span handling it. */
  readonly spanId: string;
  readonly flags: string;
}

/** One message handled by one instance. */
export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  /** `handle <address>` */
  readonly name: string;
  readonly address: string;
  readonly version: string;
  readonly kind: string;
  /** Milliseconds since the epoch. */
  readonly startMs: number;
  readonly durationMs: number;
  /** `ok`, or the error code the component returned or crashed with. */
  readonly status: string;
}

/** A valid traceparent, or undefined (an invalid one is ignored, as the W3C spec asks). */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (m === null || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}

export function formatTraceparent(traceId: string, spanId: string, flags = '01'): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

function randomHex(bytes: number): string {
  const buffer = Buffer.allocUnsafe(bytes);
  randomFillSync(buffer);
  return buffer.toString('hex');
}

export const newSpanId = (): string => randomHex(8);

/** A traceparent starting a new trace (the host API's, when tracing and the caller sent none). */
export const newTraceparent = (): string => formatTraceparent(randomHex(16), newSpanId());
