/**
 * Supervisor and child specs as plain objects, checked up front (like OTP's
 * `supervisor:check_childspecs`): a malformed spec fails with `invalid-argument` naming the exact
 * field (`children[2].restart`) before any child starts, and defaults are filled in once.
 */

import { AirssysError } from '../shared/errors.js';
import { type BehaviorSource, checkShutdown, type Shutdown } from './actor.js';
import { checkMailbox, type MailboxOptions } from './mailbox.js';

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

export const RESTART_TYPES: readonly RestartType[] = ['permanent', 'transient', 'temporary'];
export const STRATEGIES: readonly Strategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];

/** Delay before a restart: `initialMs × factor^(restarts in the window − 1)`, at most `maxMs`. */
export interface BackoffOptions {
  initialMs: number;
  maxMs?: number;
  factor?: number;
}

/**
 * One child of a supervisor.
 *
 * @example
 * const worker: ChildSpec = { id: 'worker', start: { handle() {} }, restart: 'transient', shutdown: 1000 };
 */
export interface ChildSpec {
  /** Unique among its siblings. */
  id: string;
  /** A behaviour (or factory) for a worker, or a nested `SupervisorSpec` for a subtree. */
  start: BehaviorSource | SupervisorSpec;
  /** `permanent` (default): always restarted; `transient`: after failures only; `temporary`: never. */
  restart?: RestartType;
  /** Default 5000 ms for workers, `infinity` for supervisors (OTP's defaults). */
  shutdown?: Shutdown;
  mailbox?: MailboxOptions;
  /** Registered name for the child. */
  name?: string;
}

/**
 * @example
 * const spec: SupervisorSpec = {
 *   strategy: 'one-for-all',
 *   intensity: 3,
 *   period: 5000,
 *   children: [{ id: 'db', start: dbBehavior }, { id: 'api', start: apiBehavior }],
 * };
 */
export interface SupervisorSpec {
  /** Default `one-for-one`. */
  strategy?: Strategy;
  /** Most restarts within `period` before the supervisor gives up (default 3, as Elixir). */
  intensity?: number;
  /** Milliseconds of the sliding window (default 5000). */
  period?: number;
  backoff?: BackoffOptions;
  children: ChildSpec[];
}

export interface ValidChildSpec {
  readonly id: string;
  readonly start: BehaviorSource | ValidSupervisorSpec;
  readonly supervisor: boolean;
  readonly restart: RestartType;
  readonly shutdown: Shutdown;
  readonly mailbox: MailboxOptions | undefined;
  readonly name: string | undefined;
}

export interface ValidSupervisorSpec {
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly period: number;
  readonly backoff: Required<BackoffOptions> | undefined;
  readonly children: readonly ValidChildSpec[];
}

function fail(field: string, expected: string, got: unknown): never {
  const shown = typeof got === 'function' ? 'a function' : (JSON.stringify(got) ?? String(got));
  throw new AirssysError('invalid-argument', `${field}: expected ${expected}, got ${shown}`, {
    details: { field },
  });
}

function isSupervisorSpec(value: unknown): value is SupervisorSpec {
  return typeof value === 'object' && value !== null && 'children' in value && !('handle' in value);
}

const KNOWN_SPEC_KEYS = new Set(['strategy', 'intensity', 'period', 'backoff', 'children']);
const KNOWN_CHILD_KEYS = new Set(['id', 'start', 'restart', 'shutdown', 'mailbox', 'name']);

function rejectUnknown(value: object, known: Set<string>, at: string): void {
  // Note: a typo such as `restarts:` must not silently fall back to the default.
  for (const key of Object.keys(value)) {
    if (!known.has(key))
      fail(`${at}${at ? '.' : ''}${key}`, `one of ${[...known].join(', ')} (unknown field)`, key);
  }
}

/** Checks a supervisor spec and fills in defaults; throws `invalid-argument` naming the field. */
export function validateSupervisorSpec(spec: SupervisorSpec, at = ''): ValidSupervisorSpec {
  const field = (name: string) => (at === '' ? name : `${at}.${name}`);
  if (typeof spec !== 'object' || spec === null) fail(at || 'spec', 'an object', spec);
  rejectUnknown(spec, KNOWN_SPEC_KEYS, at);
  const strategy = spec.strategy ?? 'one-for-one';
  if (!STRATEGIES.includes(strategy))
    fail(field('strategy'), STRATEGIES.map((s) => `'${s}'`).join(' | '), strategy);
  const intensity = spec.intensity ?? 3;
  if (!(Number.isInteger(intensity) && intensity >= 0))
    fail(field('intensity'), 'a whole number >= 0', intensity);
  const period = spec.period ?? 5000;
  if (!(typeof period === 'number' && period > 0 && Number.isFinite(period))) {
    fail(field('period'), 'a number of milliseconds > 0', period);
  }
  let backoff: Required<BackoffOptions> | undefined;
  if (spec.backoff !== undefined) {
    const b = spec.backoff;
    if (typeof b !== 'object' || b === null) fail(field('backoff'), 'an object', b);
    if (!(typeof b.initialMs === 'number' && b.initialMs >= 0))
      fail(field('backoff.initialMs'), 'a number >= 0', b.initialMs);
    const maxMs = b.maxMs ?? 30_000;
    if (!(typeof maxMs === 'number' && maxMs >= b.initialMs))
      fail(field('backoff.maxMs'), 'a number >= initialMs', maxMs);
    const factor = b.factor ?? 2;
    if (!(typeof factor === 'number' && factor >= 1)) fail(field('backoff.factor'), 'a number >= 1', factor);
    backoff = { initialMs: b.initialMs, maxMs, factor };
  }
  if (!Array.isArray(spec.children)) fail(field('children'), 'an array of child specs', spec.children);
  const ids = new Set<string>();
  const children = spec.children.map((child, i) => {
    const c = validateChildSpec(child, field(`children[${i}]`));
    if (ids.has(c.id)) fail(field(`children[${i}].id`), 'an id unique among its siblings', c.id);
    ids.add(c.id);
    return c;
  });
  return Object.freeze({ strategy, intensity, period, backoff, children: Object.freeze(children) });
}

export function validateChildSpec(child: ChildSpec, at: string): ValidChildSpec {
  if (typeof child !== 'object' || child === null) fail(at, 'a child spec object', child);
  rejectUnknown(child, KNOWN_CHILD_KEYS, at);
  if (typeof child.id !== 'string' || child.id.length === 0) fail(`${at}.id`, 'a non-empty string', child.id);
  const start = child.start;
  let supervisor = false;
  let validStart: BehaviorSource | ValidSupervisorSpec;
  if (typeof start === 'function') validStart = start;
  else if (isSupervisorSpec(start)) {
    supervisor = true;
    validStart = validateSupervisorSpec(start, `${at}.start`);
  } else if (typeof start === 'object' && start !== null && typeof start.handle === 'function')
    validStart = start;
  else fail(`${at}.start`, 'a behaviour with handle(), a factory returning one, or a supervisor spec', start);
  const restart = child.restart ?? 'permanent';
  if (!RESTART_TYPES.includes(restart))
    fail(`${at}.restart`, RESTART_TYPES.map((r) => `'${r}'`).join(' | '), restart);
  const shutdown = checkShutdown(child.shutdown ?? (supervisor ? 'infinity' : 5000), `${at}.shutdown`);
  if (child.mailbox !== undefined) checkMailbox(child.mailbox, `${at}.mailbox`);
  if (child.name !== undefined && (typeof child.name !== 'string' || child.name.length === 0)) {
    fail(`${at}.name`, 'a non-empty string', child.name);
  }
  return Object.freeze({
    id: child.id,
    start: validStart,
    supervisor,
    restart,
    shutdown,
    mailbox: child.mailbox,
    name: child.name,
  });
}
