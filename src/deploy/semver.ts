/**
 * Semantic Versioning 2.0.0 parsing and precedence (semver.org §11), for ordering the versions
 * the registry holds. Written here rather than taken from npm `semver`, which this package does
 * not depend on; it is the few rules below and nothing more (no ranges).
 */

import { AirssysError } from '../shared/errors.js';

export interface Semver {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  /** Dot-separated prerelease identifiers; empty for a release. */
  readonly prerelease: readonly string[];
  /** Build metadata: kept, but never part of precedence. */
  readonly build: readonly string[];
}

// The regular expression semver.org publishes; numeric identifiers have no leading zeros.
const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

const NUMERIC = /^\d+$/;

/** Parses a strict semantic version; `undefined` when `text` is not one. */
export function tryParseSemver(text: string): Semver | undefined {
  const match = SEMVER_RE.exec(text);
  if (match === null) return undefined;
  return {
    major: match[1],
    minor: match[2],
    patch: match[3],
    prerelease: match[4] === undefined ? [] : match[4].split('.'),
    build: match[5] === undefined ? [] : match[5].split('.'),
  };
}

export function isValidSemver(text: string): boolean {
  return SEMVER_RE.test(text);
}

/**
 * @example
 * parseSemver('1.2.0-rc.1+build.5').prerelease; // ['rc', '1']
 */
export function parseSemver(text: string): Semver {
  const parsed = tryParseSemver(text);
  if (parsed === undefined) {
    throw new AirssysError(
      'invalid-argument',
      `${JSON.stringify(text)} is not a semantic version: use MAJOR.MINOR.PATCH with optional -prerelease and +build, e.g. "1.2.0"`,
      { details: { version: text } },
    );
  }
  return parsed;
}

// Note: numeric identifiers are compared as digit strings (length first, then text) because they
// have no leading zeros and may exceed Number.MAX_SAFE_INTEGER.
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifier(a: string, b: string): number {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  if (aNumeric && bNumeric) return compareNumeric(a, b);
  // A numeric identifier always has lower precedence than an alphanumeric one.
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  // ASCII order, which is what JavaScript's `<` on these characters gives.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Precedence of two versions: negative when `a` is older, positive when newer, 0 when equal
 * (build metadata ignored). Accepts version strings or parsed versions.
 *
 * @example
 * ['1.10.0', '1.9.0', '1.0.0-rc.1', '1.0.0'].sort(compareSemver);
 * // ['1.0.0-rc.1', '1.0.0', '1.9.0', '1.10.0']
 */
export function compareSemver(a: string | Semver, b: string | Semver): number {
  const x = typeof a === 'string' ? parseSemver(a) : a;
  const y = typeof b === 'string' ? parseSemver(b) : b;
  const core =
    compareNumeric(x.major, y.major) || compareNumeric(x.minor, y.minor) || compareNumeric(x.patch, y.patch);
  if (core !== 0) return core;
  // A release outranks any of its prereleases.
  if (x.prerelease.length === 0) return y.prerelease.length === 0 ? 0 : 1;
  if (y.prerelease.length === 0) return -1;
  const shared = Math.min(x.prerelease.length, y.prerelease.length);
  for (let i = 0; i < shared; i++) {
    const order = compareIdentifier(x.prerelease[i], y.prerelease[i]);
    if (order !== 0) return order;
  }
  // Equal up to the shorter: the longer set of identifiers is newer (1.0.0-alpha < 1.0.0-alpha.1).
  return Math.sign(x.prerelease.length - y.prerelease.length);
}
