/**
 * blue-green: green (the new version) comes up beside blue (the old one), which keeps 100% of the
 * traffic until one atomic route command hands all of it to green. No outage, and no message
 * handled twice: blue drains what it took before it stops.
 *
 * Happy path: start green, migrate, probe → route {green: 100}, drain blue, stop blue, done.
 * Failure (a command failed, or no healthy probe by `startedAt + healthTimeoutMs`): abort, drain +
 * stop green, restore the snapshot if one was taken, failed(rolledBack) — blue never stopped.
 *
 * Convergence after a crash: `aborted` → back; green at 100% → forward; otherwise blue must serve
 * everything — restarted if it is down while green is not ready, and any traffic on green put
 * back on blue (a half-switched table is only resolved forward when green is ready, by the switch).
 */

import { abort, bringUp, finishSwitch, retire, routeOld, routeTo, sides, summary, unwind } from './common.js';
import type { Command, Observed, ValidDesired } from './types.js';

export function planBlueGreen(d: ValidDesired, o: Observed): Command[] {
  if (d.strategy.kind !== 'blue-green') throw new TypeError(`not a blue-green: ${d.strategy.kind}`);
  if (o.aborted !== undefined) return unwind(d, o);
  const s = sides(d, o);
  const { old: blue, neu: green } = s;
  if (green.weight === 100) return finishSwitch(d, o, s);
  if (o.error !== undefined) return abort(d, o, `deploying ${d.toVersion} failed: ${o.error}`);

  const up = bringUp(d, o, green, d.strategy.healthTimeoutMs);
  if (up === 'ready') {
    const cmds: Command[] = [routeTo(d.toVersion)];
    if (blue?.running) cmds.push(...retire(blue.version));
    return [...cmds, { op: 'done', summary: summary(d) }];
  }
  if ('abort' in up) return abort(d, o, up.abort);
  const cmds: Command[] = [];
  if (blue !== undefined && !blue.running)
    cmds.push({ op: 'start', version: blue.version, instances: d.instances });
  if (green.weight > 0 || (blue !== undefined && blue.weight !== 100)) cmds.push(routeOld(d));
  return [...cmds, ...up];
}
