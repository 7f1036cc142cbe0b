/**
 * `GET /v1/metrics` in the Prometheus text format (version 0.0.4), built from the host's own
 * counters at scrape time: nothing is counted twice and nothing runs when nobody scrapes.
 */

import type { VersionStatus } from '../host/host.js';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderMetrics(
  uptimeMs: number,
  addresses: { address: string; versions: VersionStatus[] }[],
  deployments: { status: string }[],
): string {
  const lines: string[] = [
    '# HELP airssys_uptime_seconds Seconds since the daemon started.',
    '# TYPE airssys_uptime_seconds gauge',
    `airssys_uptime_seconds ${(uptimeMs / 1000).toFixed(3)}`,
  ];
  const series: [string, string, string, (v: VersionStatus) => number][] = [
    ['airssys_messages_handled_total', 'counter', 'Messages a version handled.', (v) => sum(v, 'handled')],
    ['airssys_messages_errors_total', 'counter', 'Errors a version returned.', (v) => sum(v, 'errors')],
    [
      'airssys_instance_crashes_total',
      'counter',
      'Traps, out-of-fuel and timeouts (each restarted an instance).',
      (v) => sum(v, 'crashes'),
    ],
    [
      'airssys_route_weight_percent',
      'gauge',
      'Share of the address traffic routed to a version.',
      (v) => v.weight,
    ],
    ['airssys_instances', 'gauge', 'Instances of a version.', (v) => v.instances],
  ];
  for (const [name, type, help, value] of series) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const { address, versions } of addresses) {
      for (const v of versions) {
        lines.push(
          `${name}{address="${label(address)}",version="${label(v.semver)}",id="${label(v.version.slice(0, 12))}"} ${value(v)}`,
        );
      }
    }
  }
  lines.push('# HELP airssys_deployments Deployments by status.', '# TYPE airssys_deployments gauge');
  for (const status of ['running', 'done', 'failed']) {
    lines.push(
      `airssys_deployments{status="${status}"} ${deployments.filter((d) => d.status === status).length}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function sum(v: VersionStatus, field: 'handled' | 'errors' | 'crashes'): number {
  return v.stats.reduce((n, s) => n + s[field], 0);
}
