/**
 * Byte sizes as written in `Component.toml`: a non-negative integer number of bytes (TOML integer
 * or a string of digits), or a decimal number followed by a unit, e.g. `"2MiB"`, `"512KiB"`,
 * `"1.5MiB"`, `"10MB"`, `"64 KiB"`. Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal
 * units (KB, MB, GB, TB) powers of 1000. Units are case-sensitive (`"mb"` is rejected with a hint).
 * The result must be a whole number of bytes and a safe integer.
 */

import { AirssysError } from '../../shared/errors.js';

export const SIZE_UNITS: Readonly<Record<string, bigint>> = Object.freeze({
  B: 1n,
  KiB: 1024n,
  MiB: 1024n ** 2n,
  GiB: 1024n ** 3n,
  TiB: 1024n ** 4n,
  KB: 1000n,
  MB: 1000n ** 2n,
  GB: 1000n ** 3n,
  TB: 1000n ** 4n,
});

/** What a size may look like, for error messages. */
export const SIZE_ACCEPTED =
  'an integer number of bytes or a string like "2MiB", "512KiB", "1.5MiB", "10MB" (units B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)';

export type SizeResult = { ok: true; bytes: number } | { ok: false; reason: string };

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SIZE_RE = /^(\d+)(?:\.(\d+))?(?: ?([A-Za-z]+))?$/;

/** Parses a size without throwing; `reason` is a short phrase such as `unknown unit "Mb"`. */
export function tryParseSize(input: unknown): SizeResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, reason: 'is not a finite number' };
    if (input < 0) return { ok: false, reason: 'is negative' };
    if (!Number.isInteger(input)) return { ok: false, reason: 'is not a whole number of bytes' };
    if (!Number.isSafeInteger(input)) return { ok: false, reason: 'is too large' };
    return { ok: true, bytes: input };
  }
  if (typeof input === 'bigint') {
    if (input < 0n) return { ok: false, reason: 'is negative' };
    if (input > MAX) return { ok: false, reason: 'is too large' };
    return { ok: true, bytes: Number(input) };
  }
  if (typeof input !== 'string') return { ok: false, reason: 'is not a size' };
  const text = input.trim();
  if (text === '') return { ok: false, reason: 'is empty' };
  if (text.startsWith('-')) return { ok: false, reason: 'is negative' };
  const m = SIZE_RE.exec(text);
  if (m === null) return { ok: false, reason: 'is not a size' };
  const [, whole, frac = '', unitText] = m;
  const unit = unitText ?? 'B';
  const multiplier = Object.hasOwn(SIZE_UNITS, unit) ? SIZE_UNITS[unit] : undefined;
  if (multiplier === undefined) {
    const hint = suggestUnit(unit);
    return {
      ok: false,
      reason: `has an unknown unit "${unit}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
    };
  }
  if (whole.length + frac.length > 30) return { ok: false, reason: 'is too large' };
  const scale = 10n ** BigInt(frac.length);
  const numerator = BigInt(whole + frac) * multiplier;
  if (numerator % scale !== 0n) return { ok: false, reason: 'is not a whole number of bytes' };
  const bytes = numerator / scale;
  if (bytes > MAX) return { ok: false, reason: 'is too large' };
  return { ok: true, bytes: Number(bytes) };
}

/** Parses a size, throwing `invalid-argument` with the reason. */
export function parseSize(input: string | number | bigint): number {
  const result = tryParseSize(input);
  if (!result.ok) {
    const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
    throw new AirssysError('invalid-argument', `${shown} ${result.reason} (accepted: ${SIZE_ACCEPTED})`, {
      details: { value: typeof input === 'bigint' ? input.toString() : input },
    });
  }
  return result.bytes;
}

const FORMAT_ORDER: readonly string[] = ['TiB', 'GiB', 'MiB', 'KiB', 'TB', 'GB', 'MB', 'KB'];

/**
 * The shortest exact spelling of a byte count: the largest binary unit that divides it, else the
 * largest decimal unit, else bytes (`4194304` → `"4MiB"`, `10000000` → `"10MB"`, `1500` → `"1500B"`).
 */
export function formatSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) return `${bytes}B`;
  if (bytes === 0) return '0B';
  const n = BigInt(bytes);
  for (const unit of FORMAT_ORDER) {
    const m = SIZE_UNITS[unit];
    if (n % m === 0n) return `${n / m}${unit}`;
  }
  return `${bytes}B`;
}

function suggestUnit(unit: string): string | undefined {
  const lower = unit.toLowerCase();
  for (const known of Object.keys(SIZE_UNITS)) if (known.toLowerCase() === lower) return known;
  const short: Record<string, string> = {
    k: 'KiB',
    m: 'MiB',
    g: 'GiB',
    t: 'TiB',
    kib: 'KiB',
    mi: 'MiB',
    gi: 'GiB',
  };
  return Object.hasOwn(short, lower) ? short[lower] : undefined;
}
