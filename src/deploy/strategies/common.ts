/**
 * The moves every strategy shares: reading the two sides of a deployment out of an observation,
 * bringing the new version up (start → migrate → probe), finishing a switch, and unwinding a
 * deployment that has been aborted. Each returns the next batch of commands from the observation
 * alone, so the strategies built on them are pure and idempotent.
 *
 * Convergence rules shared by all strategies (each strategy file adds its own):
 * - `aborted` set → only backwards (`unwind`), whatever else the observation says.
 * - The new version holds 100% of the traffic → only forwards (`finishSwitch`): it was ready when
 *   routed, and the old version's storage has been migrated under it.
 * - Anything in between is judged afresh; a command that failed (`error`) aborts.
 */

import type { Command, Observed, ValidDesired, VersionObservation } from './types.js';

/** How long to wait between two health probes of a version that answered unhealthy. */
export const PROBE_INTERVAL_MS = 500;

export interface Sides {
  /** The version serving before the deployment; undefined on a first deploy. */
  old: VersionObservation | undefined;
  /** The version being deployed. */
  neu: VersionObservation;
}

const absent = (version: string): VersionObservation => ({
  version,
  running: false,
  weight: 0,
  inflight: 0,
  stats: { handled: 0, errors: 0, crashes: 0 },
});

export function sides(d: ValidDesired, o: Observed): Sides {
  const find = (v: string) => o.versions.find((x) => x.version === v) ?? absent(v);
  return { old: d.fromVersion === undefined ? undefined : find(d.fromVersion), neu: find(d.toVersion) };
}

/** May take real traffic: running, migrated (when there was something to migrate from), healthy. */
export function isReady(d: ValidDesired, v: VersionObservation): boolean {
  return v.running && v.healthy === true && (d.fromVersion === undefined || v.migrated === true);
}

/** Route everything back to the old version, or hold it at the router on a first deploy. */
export function routeOld(d: ValidDesired): Command {
  return { op: 'route', weights: d.fromVersion === undefined ? {} : { [d.fromVersion]: 100 } };
}

export const routeTo = (version: string): Command => ({ op: 'route', weights: { [version]: 100 } });

export const retire = (version: string): Command[] => [
  { op: 'drain', version },
  { op: 'stop', version },
];

export function summary(d: ValidDesired): string {
  return `${d.address}: ${d.fromVersion ?? '(nothing)'} → ${d.toVersion} by ${d.strategy.kind}`;
}

/**
 * The steps still needed before the new version may take traffic, `'ready'` when none are, or an
 * abort reason when its health deadline has passed. Start, migrate and probe go in one batch: the
 * probe only records an answer, the decision on it is the next call's.
 */
export function bringUp(d: ValidDesired, o: Observed, neu: VersionObservation, healthTimeoutMs: number) {
  if (isReady(d, neu)) return 'ready' as const;
  const cmds: Command[] = [];
  if (!neu.running) cmds.push({ op: 'start', version: d.toVersion, instances: d.instances });
  if (d.fromVersion !== undefined && neu.migrated !== true)
    cmds.push({ op: 'migrate', version: d.toVersion, fromVersion: d.fromVersion });
  const deadline = d.startedAt + healthTimeoutMs;
  // Note: a restart or a migrate makes the last answer stale, so only a standing "unhealthy" on
  // the version as it is now counts against the deadline — the version always gets one probe.
  if (cmds.length === 0 && neu.healthy === false) {
    if (o.now >= deadline)
      return { abort: `${d.toVersion} did not become healthy within ${healthTimeoutMs} ms` } as const;
    const untilMs = Math.min(o.now + PROBE_INTERVAL_MS, deadline);
    cmds.push({ op: 'wait', untilMs, why: `${d.toVersion} unhealthy, probing again` });
  }
  cmds.push({ op: 'probe', version: d.toVersion });
  return cmds;
}

/** Record the decision to roll back, then the first moves back (computed as if it were recorded). */
export function abort(d: ValidDesired, o: Observed, reason: string): Command[] {
  return [{ op: 'abort', reason }, ...unwind(d, { ...o, aborted: reason, error: undefined })];
}

/**
 * Back to how things were: traffic to the old version, the new one drained and stopped, storage
 * restored (before the old version restarts, so nothing it writes is erased), the old version
 * running. The whole remainder is one batch; after a crash part-way, the next observation shows
 * what is left. A failure while going back leaves a state only an operator can judge.
 */
export function unwind(d: ValidDesired, o: Observed): Command[] {
  const reason = o.aborted ?? 'aborted';
  if (o.error !== undefined)
    return [{ op: 'failed', reason: `${reason}; rolling back failed too: ${o.error}`, rolledBack: false }];
  const { old, neu } = sides(d, o);
  const cmds: Command[] = [];
  if (neu.weight > 0 || (neu.shadow ?? 0) > 0 || (old !== undefined && old.weight !== 100))
    cmds.push(routeOld(d));
  if (neu.running) cmds.push(...retire(d.toVersion));
  if (o.snapshot === 'taken') cmds.push({ op: 'restore', reason });
  if (old !== undefined && !old.running)
    cmds.push({ op: 'start', version: old.version, instances: d.instances });
  cmds.push({ op: 'failed', reason, rolledBack: true });
  return cmds;
}

/** The new version holds all the traffic: make sure it runs, retire the old one, report. */
export function finishSwitch(d: ValidDesired, o: Observed, { old, neu }: Sides): Command[] {
  if (o.error !== undefined)
    return [
      {
        op: 'failed',
        reason: `${d.toVersion} serves all traffic, but cleaning up failed: ${o.error}`,
        rolledBack: false,
      },
    ];
  const cmds: Command[] = [];
  if (!neu.running) cmds.push({ op: 'start', version: d.toVersion, instances: d.instances });
  if (old?.running) cmds.push(...retire(old.version));
  cmds.push({ op: 'done', summary: summary(d) });
  return cmds;
}
