/**
 * stop-start: the old version stops before the new one starts, so the two never run side by side
 * (nor share storage) — at the price of an outage. Messages sent meanwhile wait at the router: its
 * table keeps `{old: 100}` until the switch, and a stopped version takes nothing.
 *
 * Happy path: drain + stop old, start new, migrate, probe → route {new: 100}, done.
 * Failure (a command failed, or no healthy probe by `startedAt + healthTimeoutMs`): abort, drain +
 * stop new, restore the snapshot, start old, failed(rolledBack). The restore comes before the old
 * version restarts — the other order would erase whatever it wrote in between.
 *
 * Convergence after a crash: `aborted` → back; new at 100% → forward; otherwise the old version
 * is stopped if it still runs (both running is the crash to undo), traffic on a new version that is
 * not ready goes back to the old entry, and the new version is brought up from where it is.
 */

import {
  abort,
  bringUp,
  finishSwitch,
  isReady,
  retire,
  routeOld,
  routeTo,
  sides,
  summary,
  unwind,
} from './common.js';
import type { Command, Observed, ValidDesired } from './types.js';

export function planStopStart(d: ValidDesired, o: Observed): Command[] {
  if (d.strategy.kind !== 'stop-start') throw new TypeError(`not a stop-start: ${d.strategy.kind}`);
  if (o.aborted !== undefined) return unwind(d, o);
  const s = sides(d, o);
  if (s.neu.weight === 100) return finishSwitch(d, o, s);
  if (o.error !== undefined) return abort(d, o, `deploying ${d.toVersion} failed: ${o.error}`);

  const cmds: Command[] = [];
  if (s.neu.weight > 0 && !isReady(d, s.neu)) cmds.push(routeOld(d));
  if (s.old?.running) cmds.push(...retire(s.old.version));
  const up = bringUp(d, o, s.neu, d.strategy.healthTimeoutMs);
  if (up === 'ready') return [...cmds, routeTo(d.toVersion), { op: 'done', summary: summary(d) }];
  if ('abort' in up) return abort(d, o, up.abort);
  return [...cmds, ...up];
}
