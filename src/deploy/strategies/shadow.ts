/**
 * shadow: the candidate receives a mirrored share of the real traffic for `durationMs` while the
 * old version keeps serving all of it; then the candidate is stopped and the run reported. The
 * candidate never takes real traffic, so nothing about the address changes.
 *
 * Note: `migrate` is NOT run. The reconciler gives a shadow instance no storage commits — its
 * writes are discarded along with its replies — so migrating the shared storage would change data
 * the serving version owns, for a version that will not serve. For the same reason there is no
 * snapshot and nothing to restore.
 *
 * Happy path: start candidate → route {old: 100} shadow {candidate: share} + step 0 (the mirroring
 * clock), wait `durationMs` → route {old: 100}, drain + stop candidate, done (the summary compares
 * the two). With `maxErrorRate` set and exceeded: abort, then the same moves ending in failed.
 *
 * Convergence after a crash: `aborted` → back (mirroring off, candidate stopped); once the run's
 * time is up → finish; otherwise the old version is restarted if down, the candidate started, and
 * unless the table is exactly {old: 100} mirroring {candidate: share} it is set so and the
 * mirroring clock restarted. A crash after the candidate stopped loses its counters: the summary
 * then says so.
 */

import { abort, retire, sides, unwind } from './common.js';
import type { Command, Observed, ValidDesired, ValidShadow, VersionObservation } from './types.js';

const rateOf = (s: VersionObservation['stats']) => (s.errors + s.crashes) / Math.max(1, s.handled);

function describe(label: string, v: VersionObservation): string {
  const s = v.stats;
  return `${label} ${v.version}: ${s.handled} handled, ${s.errors} errors, ${s.crashes} crashes (${(rateOf(s) * 100).toFixed(2)}%)`;
}

function finish(
  d: ValidDesired,
  o: Observed,
  spec: ValidShadow,
  old: VersionObservation,
  cand: VersionObservation,
): Command[] {
  const cmds: Command[] = [];
  // The serving version may have died while the run's time ran out: it serves again first.
  if (!old.running) cmds.push({ op: 'start', version: old.version, instances: d.instances });
  if (cand.weight > 0 || (cand.shadow ?? 0) > 0 || old.weight !== 100)
    cmds.push({ op: 'route', weights: { [old.version]: 100 } });
  if (!cand.running)
    return [...cmds, { op: 'done', summary: `shadow of ${d.toVersion} ended; its counters were lost` }];
  const report = `${describe('candidate', cand)} vs ${describe('serving', old)}`;
  if (spec.maxErrorRate !== undefined && rateOf(cand.stats) > spec.maxErrorRate)
    return abort(
      d,
      o,
      `shadow ${report}: candidate error rate exceeds maxErrorRate ${spec.maxErrorRate * 100}%`,
    );
  return [...cmds, ...retire(cand.version), { op: 'done', summary: `shadow ${report}` }];
}

export function planShadow(d: ValidDesired, o: Observed): Command[] {
  const spec = d.strategy;
  if (spec.kind !== 'shadow') throw new TypeError(`not a shadow: ${spec.kind}`);
  if (o.aborted !== undefined) return unwind(d, o);
  if (o.error !== undefined) return abort(d, o, `shadowing ${d.toVersion} failed: ${o.error}`);
  const { old: maybeOld, neu: cand } = sides(d, o);
  const old = maybeOld!;
  const started = o.stepIndex === 0 && o.stepStartedAt !== undefined;
  if (started && o.now >= o.stepStartedAt! + spec.durationMs) return finish(d, o, spec, old, cand);

  const cmds: Command[] = [];
  if (!old.running) cmds.push({ op: 'start', version: old.version, instances: d.instances });
  if (!cand.running) cmds.push({ op: 'start', version: cand.version, instances: d.instances });
  if (!started || cand.weight !== 0 || cand.shadow !== spec.share || old.weight !== 100)
    return [
      ...cmds,
      { op: 'route', weights: { [old.version]: 100 }, shadow: { [cand.version]: spec.share } },
      { op: 'step', index: 0 },
    ];
  return [
    ...cmds,
    { op: 'wait', untilMs: o.stepStartedAt! + spec.durationMs, why: `mirroring to ${cand.version}` },
  ];
}
