/**
 * canary: the new version takes a growing share of the traffic, step by step, and is judged on
 * what it did before each promotion; a bad judgement rolls it back automatically.
 *
 * Happy path: start canary, migrate, probe → for each step i: route {old: 100 − w, new: w} + step i,
 * wait until `stepStartedAt + stepMs`, judge, promote; at 100%: drain + stop old, done.
 * Judgement (`judgeCanary`) runs on every observation during a step, not only at its end, so a
 * canary that traps is rolled back as soon as the reconciler sees it. Failure: abort, route
 * {old: 100}, drain + stop canary, restore, failed(rolledBack) with the measured value and limit.
 *
 * Convergence after a crash: `aborted` → back; canary at 100% → forward; otherwise the old version
 * is restarted if down, a canary that is not ready loses its traffic, and the recorded step is
 * trusted only when the routing table matches it — else that step is entered again (routed and
 * its clock restarted). A step is thus never promoted without a full, judged `stepMs` at its weight.
 */

import { abort, bringUp, finishSwitch, routeOld, sides, unwind } from './common.js';
import type { Command, Observed, ValidCanary, ValidDesired, VersionObservation } from './types.js';

export interface Verdict {
  ok: boolean;
  /** `(errors + crashes) / max(1, handled)`. */
  errorRate: number;
  /** Why it failed, naming the measured value and the threshold. */
  reason?: string;
}

const pct = (r: number) => `${(r * 100).toFixed(2).replace(/\.?0+$/, '')}%`;

/**
 * Judges a canary on its counters. Errors and latency count once `minMessages` were handled, so a
 * single early error is not a verdict; a crash (trap) counts at once — a version that traps on its
 * first message is rolled back on that message, not after nineteen more.
 *
 * @example
 * judgeCanary(spec, { handled: 100, errors: 3, crashes: 0 }).ok; // false when maxErrorRate is 0.01
 */
export function judgeCanary(spec: ValidCanary, stats: VersionObservation['stats']): Verdict {
  const failures = stats.errors + stats.crashes;
  const errorRate = failures / Math.max(1, stats.handled);
  const enough = stats.handled >= spec.minMessages;
  if ((enough || stats.crashes > 0) && errorRate > spec.maxErrorRate)
    return {
      ok: false,
      errorRate,
      reason:
        `error rate ${pct(errorRate)} (${stats.errors} errors + ${stats.crashes} crashes in ${stats.handled} messages)` +
        ` exceeds maxErrorRate ${pct(spec.maxErrorRate)}`,
    };
  if (enough && spec.maxP99Ms !== undefined && stats.p99Ms !== undefined && stats.p99Ms > spec.maxP99Ms)
    return {
      ok: false,
      errorRate,
      reason: `p99 latency ${stats.p99Ms} ms exceeds maxP99Ms ${spec.maxP99Ms} ms`,
    };
  return { ok: true, errorRate };
}

function enterStep(d: ValidDesired, spec: ValidCanary, index: number): Command[] {
  const w = spec.steps[index];
  const weights: Record<string, number> = { [d.toVersion]: w };
  if (w < 100) weights[d.fromVersion!] = 100 - w;
  return [
    { op: 'route', weights },
    { op: 'step', index },
  ];
}

export function planCanary(d: ValidDesired, o: Observed): Command[] {
  const spec = d.strategy;
  if (spec.kind !== 'canary') throw new TypeError(`not a canary: ${spec.kind}`);
  if (o.aborted !== undefined) return unwind(d, o);
  const s = sides(d, o);
  const old = s.old!;
  const canary = s.neu;
  if (canary.weight === 100) return finishSwitch(d, o, s);
  if (o.error !== undefined) return abort(d, o, `deploying ${d.toVersion} failed: ${o.error}`);

  const cmds: Command[] = [];
  if (!old.running) cmds.push({ op: 'start', version: old.version, instances: d.instances });
  const up = bringUp(d, o, canary, spec.healthTimeoutMs);
  if (up !== 'ready') {
    if ('abort' in up) return abort(d, o, up.abort);
    if (canary.weight > 0 || old.weight !== 100) cmds.push(routeOld(d));
    return [...cmds, ...up];
  }

  const i = o.stepIndex;
  if (
    i === undefined ||
    o.stepStartedAt === undefined ||
    !Number.isInteger(i) ||
    i < 0 ||
    i >= spec.steps.length
  )
    return [...cmds, ...enterStep(d, spec, 0)];
  const w = spec.steps[i];
  if (canary.weight !== w || old.weight !== 100 - w) return [...cmds, ...enterStep(d, spec, i)];

  const verdict = judgeCanary(spec, canary.stats);
  if (!verdict.ok)
    return abort(d, o, `canary ${d.toVersion} at ${w}%: ${verdict.reason}; rolled back to ${old.version}`);
  const endsAt = o.stepStartedAt + spec.stepMs;
  if (o.now < endsAt)
    return [...cmds, { op: 'wait', untilMs: endsAt, why: `canary at ${w}% until step ends` }];
  return [...cmds, ...enterStep(d, spec, i + 1)];
}
