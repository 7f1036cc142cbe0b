/**
 * `GET /v1/metrics`: Prometheus text from prom-client. The components' figures live in their
 * actors' counters, on the scheduler threads; a scrape reads them once (`host.versions`) and
 * hands them to prom-client as snapshot metrics, so nothing is counted twice and nothing runs
 * when nobody scrapes. The daemon process's own metrics (CPU, heap, event-loop lag) come from
 * prom-client's default collectors.
 */

import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  type ActorStats,
  FUEL_BUCKETS,
  FUEL_SAMPLE,
  type Histogram,
  LATENCY_BUCKETS_US,
  mergeHistograms,
} from '../host/actor-stats.js';
import type { VersionStatus } from '../host/host.js';

type Labels = Record<string, string | number>;
interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}
type MetricType = 'counter' | 'gauge' | 'histogram';

/** A metric whose values were read at scrape time (prom-client renders any object with `get`). */
class Snapshot {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly values: Sample[],
  ) {}

  get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values,
      aggregator: 'sum' as const,
    };
  }
}

export interface MetricsSource {
  uptimeMs: number;
  addresses: { address: string; versions: VersionStatus[] }[];
  deployments: { status: string }[];
  /** Responses of the HTTP listener by address and status (absent without `--http-listen`). */
  http?: { address: string; status: number; count: number }[];
}

/** The daemon's metrics: process collectors registered once, component snapshots per scrape. */
export class DaemonMetrics {
  private readonly process = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.process, prefix: 'airssys_daemon_' });
  }

  get contentType(): string {
    return this.process.contentType;
  }

  async render(source: MetricsSource): Promise<string> {
    const scrape = new Registry();
    for (const metric of snapshots(source)) scrape.registerMetric(metric as never);
    return Registry.merge([scrape, this.process]).metrics();
  }
}

function snapshots({ uptimeMs, addresses, deployments, http }: MetricsSource): Snapshot[] {
  const rows = addresses.flatMap(({ address, versions }) =>
    versions.map((v) => ({
      labels: { address, version: v.semver, id: v.version.slice(0, 12) } as Labels,
      v,
    })),
  );
  const per = (name: string, type: MetricType, help: string, value: (v: VersionStatus) => number) =>
    new Snapshot(
      name,
      help,
      type,
      rows.map(({ labels, v }) => ({ labels, value: value(v) })),
    );
  const sum = (field: (s: ActorStats) => number) => (v: VersionStatus) =>
    v.stats.reduce((n, s) => n + field(s), 0);

  const errors: Sample[] = [];
  for (const { labels, v } of rows) {
    const byCode: Record<string, number> = {};
    for (const s of v.stats)
      for (const [code, n] of Object.entries(s.errorCodes)) byCode[code] = (byCode[code] ?? 0) + n;
    for (const [code, n] of Object.entries(byCode)) errors.push({ labels: { ...labels, code }, value: n });
  }

  return [
    ...(http === undefined
      ? []
      : [
          new Snapshot(
            'airssys_http_responses_total',
            'Responses of the HTTP listener by address (empty: no route matched) and status.',
            'counter',
            http.map(({ address, status, count }) => ({ labels: { address, status }, value: count })),
          ),
        ]),
    new Snapshot('airssys_uptime_seconds', 'Seconds since the daemon started.', 'gauge', [
      { labels: {}, value: uptimeMs / 1000 },
    ]),
    per(
      'airssys_messages_handled_total',
      'counter',
      'Messages a version handled.',
      sum((s) => s.handled),
    ),
    new Snapshot(
      'airssys_message_errors_total',
      'Errors by code: returned by the component, or a crash (trap, out-of-fuel, timeout).',
      'counter',
      errors,
    ),
    per(
      'airssys_instance_restarts_total',
      'counter',
      'Traps, out-of-fuel and timeouts; each restarted an instance.',
      sum((s) => s.crashes),
    ),
    histogram(
      'airssys_message_duration_seconds',
      'Time to handle one message inside the component.',
      rows,
      (s) => s.latency,
      LATENCY_BUCKETS_US,
      1e-6,
    ),
    histogram(
      'airssys_message_fuel',
      `Fuel (metered instructions) one message consumed; one message in ${FUEL_SAMPLE} is metered.`,
      rows,
      (s) => s.fuel,
      FUEL_BUCKETS,
      1,
    ),
    per(
      'airssys_instance_memory_bytes',
      'gauge',
      'Linear memory of the version’s instances.',
      sum((s) => s.memoryBytes),
    ),
    per(
      'airssys_mailbox_depth',
      'gauge',
      'Messages waiting in the version’s mailboxes.',
      sum((s) => s.mailboxDepth),
    ),
    per(
      'airssys_route_weight_percent',
      'gauge',
      'Share of the address traffic routed to a version.',
      (v) => v.weight,
    ),
    per('airssys_instances', 'gauge', 'Instances of a version.', (v) => v.instances),
    new Snapshot(
      'airssys_deployments',
      'Deployments by status.',
      'gauge',
      ['running', 'done', 'failed'].map((status) => ({
        labels: { status },
        value: deployments.filter((d) => d.status === status).length,
      })),
    ),
  ];
}

/** Prometheus histogram samples (cumulative `_bucket`s, `_sum`, `_count`) of merged instance histograms. */
function histogram(
  name: string,
  help: string,
  rows: { labels: Labels; v: VersionStatus }[],
  pick: (s: ActorStats) => Histogram,
  bounds: readonly number[],
  scale: number,
): Snapshot {
  const values: Sample[] = [];
  for (const { labels, v } of rows) {
    const h = mergeHistograms(v.stats.map(pick), bounds.length);
    let cumulative = 0;
    h.counts.forEach((n, i) => {
      cumulative += n;
      const le = i < bounds.length ? bounds[i] * scale : '+Inf';
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    });
    values.push({ metricName: `${name}_sum`, labels, value: h.sum * scale });
    values.push({ metricName: `${name}_count`, labels, value: cumulative });
  }
  return new Snapshot(name, help, 'histogram', values);
}
