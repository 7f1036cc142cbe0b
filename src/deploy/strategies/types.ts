/**
 * The data a deployment strategy works on (SPEC §6): what the operator asked for (`Desired`), what
 * the reconciler saw (`Observed`), and what it should do next (`Command`). Strategies are pure
 * functions of the first two, so everything they need to remember between calls lives in
 * `Observed`, written there by the reconciler as it applies commands.
 */

/** How to move an address from one version to another, as the operator writes it. */
export type StrategySpec =
  | {
      kind: 'stop-start';
      /**
       * Milliseconds after `startedAt` by which the new version must probe healthy (default 5000).
       * Note: not in the original brief; without it an unhealthy new version would mean an endless
       * outage. It is judged on a probe, so a slow drain still leaves the new version one probe.
       */
      healthTimeoutMs?: number;
    }
  | {
      kind: 'blue-green';
      /** Milliseconds after `startedAt` by which green must probe healthy (default 5000). */
      healthTimeoutMs?: number;
    }
  | {
      kind: 'canary';
      /** Weights in %, strictly increasing, ending at 100 (default [1, 10, 50, 100]). */
      steps?: number[];
      /** Milliseconds at each step before promotion (default 10 000). */
      stepMs?: number;
      /** Highest tolerated `(errors + crashes) / handled`, 0..1 (default 0.01). */
      maxErrorRate?: number;
      /** Highest tolerated p99 latency in ms (default: latency is not judged). */
      maxP99Ms?: number;
      /** Messages the canary must have handled before errors and latency are judged (default 20). */
      minMessages?: number;
      /** Milliseconds after `startedAt` by which the canary must probe healthy (default 5000). */
      healthTimeoutMs?: number;
    }
  | {
      kind: 'shadow';
      /** % of the traffic mirrored to the candidate, 1..100 (default 100). */
      share?: number;
      /** Milliseconds of mirroring before the report (default 60 000). */
      durationMs?: number;
      /** When set, a candidate whose error rate exceeds it ends the run as `failed` (0..1). */
      maxErrorRate?: number;
    };

export type StrategyKind = StrategySpec['kind'];

/** A `StrategySpec` with every default filled in (what `validateStrategy` returns). */
export type ValidStrategy =
  | { readonly kind: 'stop-start'; readonly healthTimeoutMs: number }
  | { readonly kind: 'blue-green'; readonly healthTimeoutMs: number }
  | ValidCanary
  | ValidShadow;

export interface ValidCanary {
  readonly kind: 'canary';
  readonly steps: readonly number[];
  readonly stepMs: number;
  readonly maxErrorRate: number;
  readonly maxP99Ms: number | undefined;
  readonly minMessages: number;
  readonly healthTimeoutMs: number;
}

export interface ValidShadow {
  readonly kind: 'shadow';
  readonly share: number;
  readonly durationMs: number;
  readonly maxErrorRate: number | undefined;
}

/** One deployment: move `address` from `fromVersion` to `toVersion`. */
export interface Desired {
  /** The address being deployed, e.g. `counter`. */
  address: string;
  /** Content hash of the version serving now; absent on a first deploy. */
  fromVersion?: string;
  /** Content hash of the version to deploy. */
  toVersion: string;
  /** Instances to start of the new version (and of the old one when a rollback restarts it). */
  instances: number;
  strategy: StrategySpec;
  /** When the deployment began (ms, the reconciler's clock); health deadlines count from here. */
  startedAt: number;
}

/** What the reconciler knows of one version of the address. */
export interface VersionObservation {
  /** Content hash. */
  version: string;
  /** Its instances are up. */
  running: boolean;
  /** Result of the last health probe since it started; absent when not probed yet. */
  healthy?: boolean;
  /** Its `migrate(from)` succeeded (a version without a `migrate` export counts as migrated). */
  migrated?: boolean;
  /** % of the address's traffic routed to it, 0..100. */
  weight: number;
  /** % of the traffic mirrored to it (replies and storage writes discarded), 0..100. */
  shadow?: number;
  /** Messages queued for it or being handled. */
  inflight: number;
  /**
   * Counted since it started. `handled`: messages it finished, whatever the outcome; `errors`:
   * of those, the ones that returned an error; `crashes`: of those, the ones that trapped.
   */
  stats: { handled: number; errors: number; crashes: number; p99Ms?: number };
}

/**
 * Everything a strategy sees. Fields other than `now` and `versions` are the strategy's memory,
 * kept by the reconciler for the duration of one deployment (and across reconciler restarts).
 */
export interface Observed {
  /** The reconciler's clock, ms. */
  now: number;
  /** The versions of this address the host knows of; a version not listed is not running. */
  versions: VersionObservation[];
  /** Set by a `step` command: the step (canary) or mirroring run (shadow) in progress. */
  stepIndex?: number;
  /** Set by a `step` command: `now` when it was applied. */
  stepStartedAt?: number;
  /** Why the last command failed; cleared when a batch succeeds. */
  error?: string;
  /**
   * Set by an `abort` command and never cleared: the deployment is rolling back, for this
   * reason. Note: added to the brief's shape — once the new version is stopped the observation
   * alone could not tell "rolling back" from "not started yet", and the next call would start it.
   */
  aborted?: string;
  /**
   * The storage snapshot the reconciler takes before the first `migrate`: `taken`, then
   * `restored` after a `restore`. Note: added to the brief's shape so `restore` runs exactly once
   * (a second one would erase what the old version wrote since) and never without a snapshot.
   */
  snapshot?: 'taken' | 'restored';
}

/**
 * One thing for the reconciler to do. `plan` returns a batch of them; the reconciler applies them
 * in order, stops at the first that fails (reporting it in `Observed.error`), and calls `plan`
 * again with a fresh observation until a batch ends in `done` or `failed`.
 */
export type Command =
  /** Start `instances` instances of a version. */
  | { op: 'start'; version: string; instances: number }
  /**
   * Run the version's `migrate(fromVersion)`. The reconciler snapshots storage first, unless this
   * deployment already holds a snapshot (a retried migrate must not snapshot half-migrated data).
   */
  | { op: 'migrate'; version: string; fromVersion: string }
  /** Run the version's health check; the result lands in `VersionObservation.healthy`. */
  | { op: 'probe'; version: string }
  /**
   * Switch routing atomically: versions not in `weights` get 0% (an empty `weights` holds all
   * traffic at the router); versions not in `shadow` get no mirrored traffic.
   */
  | { op: 'route'; weights: Record<string, number>; shadow?: Record<string, number> }
  /** Give the version no new messages and wait until its `inflight` is 0. */
  | { op: 'drain'; version: string }
  | { op: 'stop'; version: string }
  /** Restore the storage snapshot taken before `migrate`; sets `Observed.snapshot = 'restored'`. */
  | { op: 'restore'; reason: string }
  /** Record that step `index` began: the reconciler stores `stepIndex = index`, `stepStartedAt = now`. */
  | { op: 'step'; index: number }
  /** Nothing to do until `untilMs`, or until the observation changes, whichever comes first. */
  | { op: 'wait'; untilMs: number; why: string }
  /** Record that the deployment is rolling back: the reconciler stores `Observed.aborted = reason`. */
  | { op: 'abort'; reason: string }
  | { op: 'done'; summary: string }
  /** `rolledBack`: the old version (or nothing, on a first deploy) serves as before the deployment. */
  | { op: 'failed'; reason: string; rolledBack: boolean };

/** A `Desired` whose strategy is validated. */
export interface ValidDesired extends Omit<Desired, 'strategy'> {
  readonly strategy: ValidStrategy;
}
