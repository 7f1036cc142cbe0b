/**
 * Per-instance counters, kept by the node across restarts and read by the host API, the
 * daemon's metrics and the deployment strategies. Histograms have fixed buckets so instances on
 * different threads add up, and are cumulative only when rendered (Prometheus `le`).
 *
 * Kept cheap because they run on every message: the handling time costs two clock reads and a
 * short bucket search; fuel needs the metered call path, so only one message in `FUEL_SAMPLE`
 * is metered (the histogram says so in its help text).
 */

/** Upper bounds of the handling-time buckets, in microseconds (a last bucket holds the rest). */
export const LATENCY_BUCKETS_US = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000,
];
/** Upper bounds of the fuel-per-message buckets. */
export const FUEL_BUCKETS = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
/** One message in this many is metered for fuel. */
export const FUEL_SAMPLE = 16;

export interface Histogram {
  /** Observations per bucket (not cumulative); one more entry than the bounds, for the rest. */
  readonly counts: number[];
  sum: number;
}

export interface ActorStats {
  handled: number;
  /** Errors the component returned. */
  errors: number;
  /** Traps, out-of-fuel, timeouts: each one restarted the instance. */
  crashes: number;
  lastError: { code: string; message: string; at: number } | undefined;
  /** Returned errors and crashes by error code. */
  errorCodes: Record<string, number>;
  /** Time to handle one message (µs), every message. */
  latency: Histogram;
  /** Fuel one message consumed, sampled (one in `FUEL_SAMPLE`). */
  fuel: Histogram;
  /** Linear memory of the current instance, bytes (updated on sampled messages). */
  memoryBytes: number;
  /** Messages waiting in the mailbox when the stats were read. */
  mailboxDepth: number;
}

export function newStats(): ActorStats {
  return {
    handled: 0,
    errors: 0,
    crashes: 0,
    lastError: undefined,
    errorCodes: {},
    latency: { counts: new Array(LATENCY_BUCKETS_US.length + 1).fill(0), sum: 0 },
    fuel: { counts: new Array(FUEL_BUCKETS.length + 1).fill(0), sum: 0 },
    memoryBytes: 0,
    mailboxDepth: 0,
  };
}

export function observe(h: Histogram, bounds: readonly number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  h.counts[i]++;
  h.sum += value;
}

export function countError(stats: ActorStats, code: string, message: string): void {
  stats.errorCodes[code] = (stats.errorCodes[code] ?? 0) + 1;
  stats.lastError = { code, message, at: Date.now() };
}

/** The sum of several instances' histograms (same bounds). */
export function mergeHistograms(list: readonly Histogram[], buckets: number): Histogram {
  const out: Histogram = { counts: new Array(buckets + 1).fill(0), sum: 0 };
  for (const h of list) {
    for (let i = 0; i < out.counts.length; i++) out.counts[i] += h.counts[i] ?? 0;
    out.sum += h.sum;
  }
  return out;
}
