/**
 * Strategy specs and deployments checked up front: a bad value fails with `invalid-argument`
 * naming the field (`strategy.steps[2]`), defaults are filled in once, and the strategies never
 * see a spec they would have to second-guess.
 */

import { AirssysError } from '../../shared/errors.js';
import type { Desired, StrategySpec, ValidDesired, ValidStrategy } from './types.js';

export const STRATEGY_KINDS = ['stop-start', 'blue-green', 'canary', 'shadow'] as const;

export const DEFAULT_HEALTH_TIMEOUT_MS = 5000;
export const DEFAULT_CANARY_STEPS: readonly number[] = Object.freeze([1, 10, 50, 100]);
export const DEFAULT_STEP_MS = 10_000;
export const DEFAULT_MAX_ERROR_RATE = 0.01;
export const DEFAULT_MIN_MESSAGES = 20;
export const DEFAULT_SHADOW_MS = 60_000;

const KNOWN_KEYS: Record<StrategySpec['kind'], readonly string[]> = {
  'stop-start': ['kind', 'healthTimeoutMs'],
  'blue-green': ['kind', 'healthTimeoutMs'],
  canary: ['kind', 'steps', 'stepMs', 'maxErrorRate', 'maxP99Ms', 'minMessages', 'healthTimeoutMs'],
  shadow: ['kind', 'share', 'durationMs', 'maxErrorRate'],
};

function fail(field: string, expected: string, got: unknown): never {
  throw new AirssysError('invalid-argument', `${field}: expected ${expected}, got ${JSON.stringify(got)}`, {
    details: { field },
  });
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function millis(value: unknown, fallback: number, field: string): number {
  const v = value ?? fallback;
  if (!(isNumber(v) && v >= 0)) fail(field, 'a number of milliseconds >= 0', v);
  return v;
}

function rate(value: unknown, field: string): number {
  if (!(isNumber(value) && value >= 0 && value <= 1)) fail(field, 'a rate between 0 and 1', value);
  return value;
}

/**
 * Checks a strategy spec and fills in its defaults; throws `invalid-argument` naming the field.
 *
 * @example
 * validateStrategy({ kind: 'canary', steps: [5, 100] });
 * // { kind: 'canary', steps: [5, 100], stepMs: 10000, maxErrorRate: 0.01, minMessages: 20, … }
 */
export function validateStrategy(spec: StrategySpec, at = ''): ValidStrategy {
  const field = (name: string) => (at === '' ? name : `${at}.${name}`);
  if (typeof spec !== 'object' || spec === null) fail(at || 'strategy', 'an object', spec);
  if (!STRATEGY_KINDS.includes(spec.kind))
    fail(field('kind'), STRATEGY_KINDS.map((k) => `'${k}'`).join(' | '), spec.kind);
  const known = KNOWN_KEYS[spec.kind];
  // Note: a typo such as `step:` must not silently fall back to the default.
  for (const key of Object.keys(spec))
    if (!known.includes(key)) fail(field(key), `one of ${known.join(', ')} (unknown field)`, key);

  switch (spec.kind) {
    case 'stop-start':
    case 'blue-green':
      return Object.freeze({
        kind: spec.kind,
        healthTimeoutMs: millis(spec.healthTimeoutMs, DEFAULT_HEALTH_TIMEOUT_MS, field('healthTimeoutMs')),
      });
    case 'canary': {
      const steps = spec.steps ?? DEFAULT_CANARY_STEPS;
      if (!Array.isArray(steps) || steps.length === 0) fail(field('steps'), 'a non-empty array of %', steps);
      steps.forEach((w, i) => {
        if (!(isNumber(w) && w > 0 && w <= 100))
          fail(field(`steps[${i}]`), 'a weight in % (0 < w <= 100)', w);
        if (i > 0 && w <= steps[i - 1])
          fail(field(`steps[${i}]`), `a weight above the previous step (${steps[i - 1]})`, w);
      });
      if (steps[steps.length - 1] !== 100)
        fail(field(`steps[${steps.length - 1}]`), 'a last step of 100', steps[steps.length - 1]);
      const minMessages = spec.minMessages ?? DEFAULT_MIN_MESSAGES;
      if (!(Number.isInteger(minMessages) && minMessages >= 0))
        fail(field('minMessages'), 'a whole number >= 0', minMessages);
      if (spec.maxP99Ms !== undefined && !(isNumber(spec.maxP99Ms) && spec.maxP99Ms > 0))
        fail(field('maxP99Ms'), 'a number of milliseconds > 0', spec.maxP99Ms);
      return Object.freeze({
        kind: 'canary',
        steps: Object.freeze([...steps]),
        stepMs: millis(spec.stepMs, DEFAULT_STEP_MS, field('stepMs')),
        maxErrorRate: rate(spec.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE, field('maxErrorRate')),
        maxP99Ms: spec.maxP99Ms,
        minMessages,
        healthTimeoutMs: millis(spec.healthTimeoutMs, DEFAULT_HEALTH_TIMEOUT_MS, field('healthTimeoutMs')),
      });
    }
    case 'shadow': {
      const share = spec.share ?? 100;
      if (!(isNumber(share) && share > 0 && share <= 100))
        fail(field('share'), 'a share in % (0 < s <= 100)', share);
      return Object.freeze({
        kind: 'shadow',
        share,
        durationMs: millis(spec.durationMs, DEFAULT_SHADOW_MS, field('durationMs')),
        maxErrorRate:
          spec.maxErrorRate === undefined ? undefined : rate(spec.maxErrorRate, field('maxErrorRate')),
      });
    }
  }
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Checks a deployment and its strategy; throws `invalid-argument` naming the field. */
export function validateDesired(desired: Desired): ValidDesired {
  if (typeof desired !== 'object' || desired === null) fail('desired', 'an object', desired);
  const { address, fromVersion, toVersion, instances, startedAt } = desired;
  if (!nonEmpty(address)) fail('address', 'a non-empty string', address);
  if (!nonEmpty(toVersion)) fail('toVersion', 'a version hash', toVersion);
  if (fromVersion !== undefined && !nonEmpty(fromVersion)) fail('fromVersion', 'a version hash', fromVersion);
  if (fromVersion === toVersion) fail('toVersion', 'a version other than fromVersion', toVersion);
  if (!(Number.isInteger(instances) && instances >= 1)) fail('instances', 'a whole number >= 1', instances);
  if (!isNumber(startedAt)) fail('startedAt', 'a time in ms', startedAt);
  const strategy = validateStrategy(desired.strategy, 'strategy');
  // Note: both compare the new version against traffic the old one serves; on a first deploy
  // there is nothing to compare with, so say so rather than invent a meaning.
  if ((strategy.kind === 'canary' || strategy.kind === 'shadow') && fromVersion === undefined)
    fail(
      'fromVersion',
      `a serving version (a ${strategy.kind} needs one; use stop-start or blue-green)`,
      fromVersion,
    );
  return Object.freeze({ address, fromVersion, toVersion, instances, startedAt, strategy });
}
