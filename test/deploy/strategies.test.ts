import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  type Command,
  type Desired,
  judgeCanary,
  type Observed,
  plan,
  rollbackDesired,
  type StrategySpec,
  type ValidCanary,
  type VersionObservation,
  validateDesired,
  validateStrategy,
} from '../../src/deploy/strategies/index.js';
import { AirssysError } from '../../src/shared/errors.js';

// ---------------------------------------------------------------------------------------------
// A tiny reconciler: applies commands to an in-memory observation, with scripted failures, and
// checks on every command the promises the strategies make (no traffic to a version that is not
// ready, no stop with messages in flight, no restore without a snapshot).

interface Script {
  migrateFails?: boolean;
  /** Probes that answer unhealthy before the new version turns healthy (Infinity: never). */
  unhealthyProbes?: number;
  /** Fraction of the new version's messages that end in an error. */
  errorRate?: number;
  /** The new version traps on its first message. */
  crashOnFirst?: boolean;
  /** The new version's p99 latency. */
  p99Ms?: number;
  /** Messages per second to the address. */
  ratePerSec?: number;
}

const OLD = 'v1';
const NEW = 'v2';
const SLICE_MS = 1000;

const stats = () => ({ handled: 0, errors: 0, crashes: 0 });

function serving(version = OLD): VersionObservation {
  return { version, running: true, healthy: true, migrated: true, weight: 100, inflight: 2, stats: stats() };
}

class Sim {
  obs: Observed;
  log: string[] = [];
  private probes = 0;
  private crashed = false;
  private carry = new Map<string, number>();
  private errorCarry = 0;

  constructor(
    readonly desired: Desired,
    readonly script: Script = {},
    obs?: Observed,
  ) {
    this.obs = obs ?? {
      now: desired.startedAt,
      versions: desired.fromVersion ? [serving(desired.fromVersion)] : [],
    };
  }

  version(v: string): VersionObservation {
    let entry = this.obs.versions.find((x) => x.version === v);
    if (!entry) {
      entry = { version: v, running: false, weight: 0, inflight: 0, stats: stats() };
      this.obs.versions.push(entry);
    }
    return entry;
  }

  /** Applies a batch in order; returns the terminal command when one is reached. */
  apply(batch: Command[]): Command | undefined {
    this.obs.error = undefined;
    for (const cmd of batch) {
      try {
        const terminal = this.one(cmd);
        this.log.push(fmt(cmd));
        if (terminal) return cmd;
      } catch (e) {
        if (e instanceof EndOfBatch) {
          this.log.push(fmt(cmd));
          return undefined;
        }
        if (!(e instanceof ScriptedFailure)) throw e;
        this.log.push(`${fmt(cmd)} ✗`);
        this.obs.error = e.message;
        return undefined;
      }
    }
    return undefined;
  }

  kill(v: string): void {
    const entry = this.version(v);
    Object.assign(entry, { running: false, healthy: undefined, inflight: 0 });
  }

  private one(cmd: Command): boolean {
    const d = this.desired;
    switch (cmd.op) {
      case 'start': {
        const v = this.version(cmd.version);
        expect(v.running, `start of running ${cmd.version}`).toBe(false);
        Object.assign(v, { running: true, healthy: undefined, inflight: 0, stats: stats() });
        this.carry.delete(cmd.version);
        return false;
      }
      case 'migrate': {
        expect(cmd.version).toBe(d.toVersion);
        expect(d.strategy.kind, 'a shadow never migrates shared storage').not.toBe('shadow');
        this.obs.snapshot ??= 'taken';
        if (this.script.migrateFails) throw new ScriptedFailure('migrate trapped: unreachable');
        this.version(cmd.version).migrated = true;
        return false;
      }
      case 'probe': {
        const v = this.version(cmd.version);
        expect(v.running, 'probe of a stopped version').toBe(true);
        v.healthy = this.probes++ >= (this.script.unhealthyProbes ?? 0);
        return false;
      }
      case 'route': {
        const sum = Object.values(cmd.weights).reduce((a, b) => a + b, 0);
        expect([0, 100]).toContain(sum);
        for (const [version, w] of Object.entries(cmd.weights)) {
          if (w === 0) continue;
          if (version === d.toVersion) {
            const v = this.version(version);
            expect(d.strategy.kind, 'a shadow candidate never takes real traffic').not.toBe('shadow');
            expect(v.running && v.healthy === true, `traffic to an unhealthy ${version}`).toBe(true);
            if (d.fromVersion) expect(v.migrated, `traffic to an unmigrated ${version}`).toBe(true);
          } else expect(version, 'traffic only to the old or the new version').toBe(d.fromVersion);
        }
        for (const v of this.obs.versions) {
          v.weight = cmd.weights[v.version] ?? 0;
          v.shadow = cmd.shadow?.[v.version] ?? 0;
        }
        return false;
      }
      case 'drain':
        this.version(cmd.version).inflight = 0;
        return false;
      case 'stop': {
        const v = this.version(cmd.version);
        expect(v.inflight, `stop of ${cmd.version} with messages in flight`).toBe(0);
        Object.assign(v, { running: false, healthy: undefined });
        return false;
      }
      case 'restore':
        expect(this.obs.snapshot, 'restore without a snapshot, or twice').toBe('taken');
        this.obs.snapshot = 'restored';
        this.version(d.toVersion).migrated = false;
        return false;
      case 'step':
        this.obs.stepIndex = cmd.index;
        this.obs.stepStartedAt = this.obs.now;
        return false;
      case 'wait':
        expect(cmd.untilMs).toBeGreaterThan(this.obs.now);
        this.traffic(Math.min(cmd.untilMs, this.obs.now + SLICE_MS) - this.obs.now);
        // Note: the reconciler re-plans when the observation changes (traffic every slice), so a
        // long wait ends the batch early; one that ran its course lets the batch go on.
        if (this.obs.now < cmd.untilMs) throw new EndOfBatch();
        return false;
      case 'abort':
        expect(this.obs.aborted).toBeUndefined();
        this.obs.aborted = cmd.reason;
        return false;
      case 'done':
      case 'failed':
        return true;
    }
  }

  private traffic(ms: number): void {
    this.obs.now += ms;
    const total = ((this.script.ratePerSec ?? 20) * ms) / 1000;
    for (const v of this.obs.versions) {
      if (!v.running) continue;
      const share = v.weight + (v.shadow ?? 0);
      const carry = (this.carry.get(v.version) ?? 0) + (total * share) / 100;
      const n = Math.floor(carry);
      this.carry.set(v.version, carry - n);
      if (n === 0) continue;
      v.stats.handled += n;
      v.inflight = 1;
      if (v.version !== this.desired.toVersion) continue;
      this.errorCarry += n * (this.script.errorRate ?? 0);
      v.stats.errors = Math.floor(this.errorCarry);
      if (this.script.crashOnFirst && !this.crashed) {
        this.crashed = true;
        v.stats.crashes = 1;
      }
      if (this.script.p99Ms !== undefined) v.stats.p99Ms = this.script.p99Ms;
    }
  }
}

class ScriptedFailure extends Error {}
class EndOfBatch extends Error {}

function fmt(cmd: Command): string {
  switch (cmd.op) {
    case 'route': {
      const list = (r: Record<string, number>) =>
        Object.entries(r)
          .filter(([, w]) => w > 0)
          .sort()
          .map(([v, w]) => `${v}=${w}`)
          .join(' ');
      return `route ${list(cmd.weights)}${cmd.shadow ? ` shadow ${list(cmd.shadow)}` : ''}`.trim();
    }
    case 'step':
      return `step ${cmd.index}`;
    case 'failed':
      return cmd.rolledBack ? 'failed(rolled back)' : 'failed';
    case 'start':
    case 'migrate':
    case 'probe':
    case 'drain':
    case 'stop':
      return `${cmd.op} ${cmd.version}`;
    default:
      return cmd.op;
  }
}

interface RunOptions {
  /** Batch number → how many of its commands are applied before the reconciler crashes. */
  crashes?: Map<number, number>;
  /** Batch number → version whose instances die before that batch is planned. */
  kills?: Map<number, string>;
  /** Skip the strategy-specific promises (for runs that start from a crash state). */
  from?: Observed;
}

interface Run {
  sim: Sim;
  end: Command;
  /** The log without waits, and a probe repeated while waiting for health shown once. */
  story: string[];
}

function run(desired: Desired, script: Script = {}, opts: RunOptions = {}): Run {
  const sim = new Sim(desired, script, opts.from && structuredClone(opts.from));
  const spec = validateStrategy(desired.strategy);
  for (let n = 0; n < 3000; n++) {
    const victim = opts.kills?.get(n);
    if (victim) sim.kill(victim);
    const seen = structuredClone(sim.obs);
    const batch = plan(desired, seen);
    expect(batch.length).toBeGreaterThan(0);
    expect(plan(desired, structuredClone(seen)), 'plan is idempotent').toEqual(batch);
    expect(seen, 'plan does not touch the observation').toEqual(sim.obs);
    if (!opts.from) checkPromises(desired, spec, seen, batch);
    const keep = opts.crashes?.get(n);
    const end = sim.apply(keep === undefined ? batch : batch.slice(0, keep));
    // The reconciler restarted: whatever failed is forgotten; what it recorded is kept.
    if (keep !== undefined) sim.obs.error = undefined;
    if (end) {
      checkFinal(desired, sim.obs, end);
      expect(plan(desired, structuredClone(sim.obs)).at(-1)?.op, 'a finished deployment stays finished').toBe(
        end.op,
      );
      const story = sim.log.filter(
        (line, i) => line !== 'wait' && !(line.startsWith('probe') && sim.log[i - 1] === 'wait'),
      );
      return { sim, end, story };
    }
  }
  throw new Error(`no done or failed after 3000 batches: ${sim.log.slice(-20).join(', ')}`);
}

/** The strategy-specific promises, checked against every batch planned. */
function checkPromises(
  desired: Desired,
  spec: ReturnType<typeof validateStrategy>,
  seen: Observed,
  batch: Command[],
) {
  const at = (v: string | undefined) => seen.versions.find((x) => x.version === v);
  if (spec.kind === 'blue-green' && desired.fromVersion) {
    // Blue keeps all the traffic until green takes all of it.
    expect([at(desired.fromVersion)?.weight, at(desired.toVersion)?.weight]).toContainEqual(100);
  }
  if (spec.kind === 'canary') {
    for (const cmd of batch) {
      if (cmd.op !== 'step' || cmd.index === 0 || cmd.index === seen.stepIndex) continue;
      // A promotion: only from the previous step, after its full time, on a passing judgement.
      expect(cmd.index).toBe(seen.stepIndex! + 1);
      expect(seen.now).toBeGreaterThanOrEqual(seen.stepStartedAt! + spec.stepMs);
      expect(judgeCanary(spec, at(desired.toVersion)!.stats).ok).toBe(true);
    }
  }
}

/** Exactly one version holds all the traffic and runs; the other is stopped. */
function checkFinal(desired: Desired, obs: Observed, end: Command) {
  const at = (v: string) => obs.versions.find((x) => x.version === v);
  const winner =
    end.op === 'done' && desired.strategy.kind !== 'shadow'
      ? desired.toVersion
      : (desired.fromVersion ?? null);
  const loser = winner === desired.toVersion ? desired.fromVersion : desired.toVersion;
  if (winner !== null) {
    expect(at(winner)?.weight).toBe(100);
    expect(at(winner)?.running).toBe(true);
  }
  if (loser !== undefined) {
    expect(at(loser)?.running ?? false).toBe(false);
    expect(at(loser)?.weight ?? 0).toBe(0);
    expect(at(loser)?.shadow ?? 0).toBe(0);
  }
  if (end.op === 'failed') {
    expect(end.rolledBack).toBe(true);
    expect(obs.snapshot, 'a failed deployment restores its snapshot').not.toBe('taken');
  }
}

const deploy = (strategy: StrategySpec, first = false): Desired => ({
  address: 'counter',
  fromVersion: first ? undefined : OLD,
  toVersion: NEW,
  instances: 2,
  strategy,
  startedAt: 1_000_000,
});

// ---------------------------------------------------------------------------------------------

describe('strategies — validateStrategy', () => {
  const fieldOf = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(AirssysError);
      expect((e as AirssysError).code).toBe('invalid-argument');
      return (e as AirssysError).details?.field;
    }
    throw new Error('expected invalid-argument');
  };

  test('fills in the documented defaults', () => {
    expect(validateStrategy({ kind: 'blue-green' })).toEqual({ kind: 'blue-green', healthTimeoutMs: 5000 });
    expect(validateStrategy({ kind: 'canary' })).toEqual({
      kind: 'canary',
      steps: [1, 10, 50, 100],
      stepMs: 10_000,
      maxErrorRate: 0.01,
      maxP99Ms: undefined,
      minMessages: 20,
      healthTimeoutMs: 5000,
    });
    expect(validateStrategy({ kind: 'shadow' })).toEqual({
      kind: 'shadow',
      share: 100,
      durationMs: 60_000,
      maxErrorRate: undefined,
    });
  });

  test.each<[string, StrategySpec, string]>([
    ['steps that do not increase', { kind: 'canary', steps: [10, 50, 50, 100] }, 'steps[2]'],
    ['steps that do not end at 100', { kind: 'canary', steps: [10, 50] }, 'steps[1]'],
    ['an empty steps list', { kind: 'canary', steps: [] }, 'steps'],
    ['a weight above 100', { kind: 'canary', steps: [50, 150] }, 'steps[1]'],
    ['an error rate above 1', { kind: 'canary', maxErrorRate: 1.5 }, 'maxErrorRate'],
    ['a negative error rate', { kind: 'shadow', maxErrorRate: -0.1 }, 'maxErrorRate'],
    ['a negative step time', { kind: 'canary', stepMs: -1 }, 'stepMs'],
    ['a negative health timeout', { kind: 'blue-green', healthTimeoutMs: -5 }, 'healthTimeoutMs'],
    ['a negative duration', { kind: 'shadow', durationMs: -1 }, 'durationMs'],
    ['a share of 0', { kind: 'shadow', share: 0 }, 'share'],
    ['a fractional minMessages', { kind: 'canary', minMessages: 2.5 }, 'minMessages'],
    ['a misspelt field', { kind: 'canary', step: [100] } as unknown as StrategySpec, 'step'],
    ['an unknown kind', { kind: 'rolling' } as unknown as StrategySpec, 'kind'],
  ])('rejects %s, naming the field', (_, spec, field) => {
    expect(fieldOf(() => validateStrategy(spec))).toBe(field);
    expect(fieldOf(() => plan(deploy(spec), { now: 0, versions: [] }))).toBe(`strategy.${field}`);
  });

  test('rejects a canary or a shadow with nothing serving to compare against', () => {
    expect(fieldOf(() => validateDesired(deploy({ kind: 'canary' }, true)))).toBe('fromVersion');
    expect(fieldOf(() => validateDesired(deploy({ kind: 'shadow' }, true)))).toBe('fromVersion');
    expect(fieldOf(() => validateDesired({ ...deploy({ kind: 'stop-start' }), toVersion: OLD }))).toBe(
      'toVersion',
    );
    expect(fieldOf(() => validateDesired({ ...deploy({ kind: 'stop-start' }), instances: 0 }))).toBe(
      'instances',
    );
  });
});

describe('strategies — stop-start', () => {
  test('stops the old version, then brings up, migrates, probes and routes to the new one', () => {
    const r = run(deploy({ kind: 'stop-start' }));
    expect(r.end.op).toBe('done');
    expect(r.story).toEqual([
      'drain v1',
      'stop v1',
      'start v2',
      'migrate v2',
      'probe v2',
      'route v2=100',
      'done',
    ]);
  });

  test('a first deploy has nothing to stop and nothing to migrate', () => {
    const r = run(deploy({ kind: 'stop-start' }, true));
    expect(r.story).toEqual(['start v2', 'probe v2', 'route v2=100', 'done']);
  });

  test('a failing migrate restores storage before the old version restarts', () => {
    const r = run(deploy({ kind: 'stop-start' }), { migrateFails: true });
    expect(r.story).toEqual([
      'drain v1',
      'stop v1',
      'start v2',
      'migrate v2 ✗',
      'abort',
      'drain v2',
      'stop v2',
      'restore',
      'start v1',
      'failed(rolled back)',
    ]);
    expect(r.end).toMatchObject({ rolledBack: true, reason: expect.stringContaining('migrate trapped') });
  });

  test('a new version that never turns healthy is rolled back at the health deadline', () => {
    const r = run(deploy({ kind: 'stop-start', healthTimeoutMs: 3000 }), { unhealthyProbes: Infinity });
    expect(r.story).toEqual([
      'drain v1',
      'stop v1',
      'start v2',
      'migrate v2',
      'probe v2',
      'abort',
      'drain v2',
      'stop v2',
      'restore',
      'start v1',
      'failed(rolled back)',
    ]);
    expect(r.sim.obs.now).toBe(1_003_000);
    expect(r.end).toMatchObject({ reason: expect.stringContaining('within 3000 ms') });
  });
});

describe('strategies — blue-green', () => {
  test('switches all traffic in one route command once green is healthy, then retires blue', () => {
    const r = run(deploy({ kind: 'blue-green' }), { unhealthyProbes: 2 });
    expect(r.story).toEqual([
      'start v2',
      'migrate v2',
      'probe v2',
      'route v2=100',
      'drain v1',
      'stop v1',
      'done',
    ]);
    expect(r.sim.log.filter((l) => l.startsWith('probe'))).toHaveLength(3);
  });

  test('a failing migrate stops green and restores; blue never stopped serving', () => {
    const r = run(deploy({ kind: 'blue-green' }), { migrateFails: true });
    expect(r.story).toEqual([
      'start v2',
      'migrate v2 ✗',
      'abort',
      'drain v2',
      'stop v2',
      'restore',
      'failed(rolled back)',
    ]);
    expect(r.sim.log).not.toContain('stop v1');
  });

  test('a green that stays unhealthy past healthTimeoutMs is stopped and its migration undone', () => {
    const r = run(deploy({ kind: 'blue-green' }), { unhealthyProbes: Infinity });
    expect(r.story).toEqual([
      'start v2',
      'migrate v2',
      'probe v2',
      'abort',
      'drain v2',
      'stop v2',
      'restore',
      'failed(rolled back)',
    ]);
    expect(r.sim.obs.now).toBe(1_005_000);
  });

  test('a first deploy routes to the new version once it is healthy', () => {
    expect(run(deploy({ kind: 'blue-green' }, true)).story).toEqual([
      'start v2',
      'probe v2',
      'route v2=100',
      'done',
    ]);
  });
});

describe('strategies — canary', () => {
  const canary: StrategySpec = { kind: 'canary' };

  test('steps through every weight, judging each step, then retires the old version', () => {
    const r = run(deploy(canary), { errorRate: 0.005 });
    expect(r.end.op).toBe('done');
    expect(r.story).toEqual([
      'start v2',
      'migrate v2',
      'probe v2',
      'route v1=99 v2=1',
      'step 0',
      'route v1=90 v2=10',
      'step 1',
      'route v1=50 v2=50',
      'step 2',
      'route v2=100',
      'step 3',
      'drain v1',
      'stop v1',
      'done',
    ]);
    expect(r.sim.obs.now).toBe(1_030_000);
  });

  test('a high error rate rolls back, naming the measured rate and the threshold', () => {
    const r = run(deploy(canary), { errorRate: 0.2 });
    expect(r.story.slice(-6)).toEqual([
      'abort',
      'route v1=100',
      'drain v2',
      'stop v2',
      'restore',
      'failed(rolled back)',
    ]);
    expect(r.story).not.toContain('step 2');
    expect(r.end).toMatchObject({
      reason: expect.stringMatching(/at (10|50)%: error rate \d+(\.\d+)?% .* exceeds maxErrorRate 1%/),
    });
  });

  test('a canary that traps on its first message is rolled back at once, not at the end of the step', () => {
    const r = run(deploy(canary), { crashOnFirst: true });
    expect(r.story).toEqual([
      'start v2',
      'migrate v2',
      'probe v2',
      'route v1=99 v2=1',
      'step 0',
      'abort',
      'route v1=100',
      'drain v2',
      'stop v2',
      'restore',
      'failed(rolled back)',
    ]);
    expect(r.sim.obs.now).toBeLessThan(r.sim.obs.stepStartedAt! + 10_000);
    expect(r.end).toMatchObject({ reason: expect.stringContaining('1 crashes in 1 messages') });
  });

  test('a slow canary is rolled back on maxP99Ms, but only once minMessages were seen', () => {
    const r = run(deploy({ kind: 'canary', maxP99Ms: 200 }), { p99Ms: 450 });
    expect(r.end).toMatchObject({
      op: 'failed',
      reason: expect.stringContaining('p99 latency 450 ms exceeds maxP99Ms 200 ms'),
    });
    const spec = validateStrategy({ kind: 'canary', maxP99Ms: 200 }) as ValidCanary;
    expect(judgeCanary(spec, { handled: 19, errors: 0, crashes: 0, p99Ms: 450 }).ok).toBe(true);
    expect(judgeCanary(spec, { handled: 19, errors: 5, crashes: 0 }).ok).toBe(true);
    expect(judgeCanary(spec, { handled: 20, errors: 1, crashes: 0 }).ok).toBe(false);
  });

  test('failing migrate and health deadline roll back before any traffic moves', () => {
    for (const script of [{ migrateFails: true }, { unhealthyProbes: Infinity }]) {
      const r = run(deploy(canary), script);
      expect(r.end).toMatchObject({ op: 'failed', rolledBack: true });
      expect(r.story.filter((l) => l.startsWith('route'))).toEqual([]);
    }
  });
});

describe('strategies — shadow', () => {
  test('mirrors traffic for durationMs, never migrates, then reports and stops the candidate', () => {
    const r = run(deploy({ kind: 'shadow', share: 50, durationMs: 20_000 }), { errorRate: 0.1 });
    expect(r.story).toEqual([
      'start v2',
      'route v1=100 shadow v2=50',
      'step 0',
      'route v1=100',
      'drain v2',
      'stop v2',
      'done',
    ]);
    expect(r.end).toMatchObject({
      summary: expect.stringMatching(
        /candidate v2: 200 handled, 20 errors.* vs serving v1: 400 handled, 0 errors/,
      ),
    });
  });

  test('with maxErrorRate, a candidate over it ends the run as failed', () => {
    const r = run(deploy({ kind: 'shadow', durationMs: 5000, maxErrorRate: 0.05 }), { errorRate: 0.1 });
    expect(r.story.slice(-5)).toEqual([
      'abort',
      'route v1=100',
      'drain v2',
      'stop v2',
      'failed(rolled back)',
    ]);
  });
});

describe('strategies — rollback', () => {
  test('is a deploy of the retained version with blue-green mechanics', () => {
    const desired = rollbackDesired({
      address: 'counter',
      currentVersion: NEW,
      toVersion: OLD,
      instances: 1,
      startedAt: 0,
    });
    expect(desired).toMatchObject({ fromVersion: NEW, toVersion: OLD, strategy: { kind: 'blue-green' } });
    const r = run(desired);
    expect(r.story).toEqual([
      'start v1',
      'migrate v1',
      'probe v1',
      'route v1=100',
      'drain v2',
      'stop v2',
      'done',
    ]);
  });

  test('refuses mechanics that do not switch all traffic at once', () => {
    expect(() =>
      rollbackDesired({
        address: 'counter',
        currentVersion: NEW,
        toVersion: OLD,
        instances: 1,
        startedAt: 0,
        strategy: { kind: 'canary' } as never,
      }),
    ).toThrow(/strategy.kind/);
  });
});

describe('strategies — after a crash', () => {
  const halfSwitched = (next: Partial<VersionObservation>, extra: Partial<Observed> = {}): Observed => ({
    now: 1_000_000,
    versions: [
      { ...serving(), weight: 50 },
      { ...serving(NEW), weight: 50, ...next },
    ],
    ...extra,
  });

  test.each<[string, StrategySpec, Observed, string[]]>([
    [
      'blue-green, ready green: forward',
      { kind: 'blue-green' },
      halfSwitched({}),
      ['route v2=100', 'drain v1', 'stop v1', 'done'],
    ],
    [
      'blue-green, unmigrated green: traffic back to blue first',
      { kind: 'blue-green' },
      halfSwitched({ migrated: false }),
      ['route v1=100', 'migrate v2', 'probe v2'],
    ],
    [
      'stop-start, ready new version: old stopped, then forward',
      { kind: 'stop-start' },
      halfSwitched({}),
      ['drain v1', 'stop v1', 'route v2=100', 'done'],
    ],
    [
      'canary with no step recorded: back to the first step',
      { kind: 'canary' },
      halfSwitched({}),
      ['route v1=99 v2=1', 'step 0'],
    ],
    [
      'canary whose routing does not match its step: that step again',
      { kind: 'canary' },
      halfSwitched({}, { stepIndex: 1, stepStartedAt: 990_000 }),
      ['route v1=90 v2=10', 'step 1'],
    ],
    [
      'shadow candidate holding real traffic: mirrored only',
      { kind: 'shadow' },
      halfSwitched({ migrated: false }),
      ['route v1=100 shadow v2=100', 'step 0'],
    ],
    [
      'any strategy once aborted: back, whatever the table says',
      { kind: 'blue-green' },
      halfSwitched({}, { aborted: 'unhealthy', snapshot: 'taken' }),
      ['route v1=100', 'drain v2', 'stop v2', 'restore', 'failed(rolled back)'],
    ],
  ])('%s', (_, strategy, obs, expected) => {
    const desired = deploy(strategy);
    const batch = plan(desired, obs);
    expect(batch.map(fmt)).toEqual(expected);
    expect(plan(desired, structuredClone(obs))).toEqual(batch);
    const r = run(desired, {}, { from: obs });
    expect(['done', 'failed']).toContain(r.end.op);
  });

  test('a canary at 100% after a crash only finishes forward', () => {
    const obs: Observed = {
      now: 1_000_000,
      versions: [serving(), { ...serving(NEW), weight: 100, running: false }],
      stepIndex: 2,
      stepStartedAt: 0,
    };
    obs.versions[0].weight = 0;
    expect(plan(deploy({ kind: 'canary' }), obs).map(fmt)).toEqual([
      'start v2',
      'drain v1',
      'stop v1',
      'done',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

const KINDS = ['stop-start', 'blue-green', 'canary', 'shadow'] as const;

const scenario = fc.record({
  kind: fc.constantFrom(...KINDS),
  migrateFails: fc.boolean(),
  neverHealthy: fc.boolean(),
  unhealthyProbes: fc.nat(4),
  errorRate: fc.constantFrom(0, 0.005, 0.2),
  crashOnFirst: fc.boolean(),
  slow: fc.boolean(),
  crashes: fc.array(fc.tuple(fc.nat(60), fc.nat(8)), { maxLength: 5 }),
  kills: fc.array(fc.tuple(fc.nat(60), fc.constantFrom(OLD, NEW)), { maxLength: 3 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function setUp(s: Scenario): [Desired, Script] {
  const specs: Record<(typeof KINDS)[number], StrategySpec> = {
    'stop-start': { kind: 'stop-start' },
    'blue-green': { kind: 'blue-green' },
    canary: { kind: 'canary', stepMs: 4000, maxP99Ms: 200 },
    shadow: { kind: 'shadow', durationMs: 10_000, maxErrorRate: 0.05 },
  };
  return [
    deploy(specs[s.kind]),
    {
      migrateFails: s.migrateFails,
      unhealthyProbes: s.neverHealthy ? Infinity : s.unhealthyProbes,
      errorRate: s.errorRate,
      crashOnFirst: s.crashOnFirst,
      p99Ms: s.slow ? 450 : 50,
    },
  ];
}

describe('strategies — properties', () => {
  test('with reconciler crashes at random points, every run ends as its script says, one version serving', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const [desired, script] = setUp(s);
        const r = run(desired, script, { crashes: new Map(s.crashes) });
        const bad =
          (s.kind !== 'shadow' && (s.migrateFails || s.neverHealthy)) ||
          (s.kind === 'canary' && (s.errorRate === 0.2 || s.crashOnFirst || s.slow)) ||
          (s.kind === 'shadow' && s.errorRate === 0.2);
        expect(r.end.op).toBe(bad ? 'failed' : 'done');
      }),
      { numRuns: 300 },
    );
  });

  test('with instances also dying at random points, every run still converges to one version serving', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const [desired, script] = setUp(s);
        const r = run(desired, script, { crashes: new Map(s.crashes), kills: new Map(s.kills) });
        expect(['done', 'failed']).toContain(r.end.op);
      }),
      { numRuns: 300 },
    );
  });
});
