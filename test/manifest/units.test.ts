import { describe, expect, it } from 'vitest';
import { isAirssysError } from '../../src/shared/errors.js';
import { formatSize, parseSize, tryParseSize } from '../../src/wasm/manifest/units.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

describe('tryParseSize accepts', () => {
  it.each<[string | number | bigint, number]>([
    [0, 0],
    [1, 1],
    [2_097_152, 2 * MiB],
    [1024n, 1024],
    ['0', 0],
    ['1048576', MiB],
    ['1B', 1],
    ['512B', 512],
    ['1KiB', KiB],
    ['512KiB', 512 * KiB],
    ['2MiB', 2 * MiB],
    ['4 MiB', 4 * MiB],
    ['  8MiB  ', 8 * MiB],
    ['1.5MiB', 1.5 * MiB],
    ['0.5KiB', 512],
    ['1.25GiB', 1.25 * GiB],
    ['1TiB', 1024 * GiB],
    ['1KB', 1000],
    ['10MB', 10_000_000],
    ['1.5KB', 1500],
    ['2GB', 2_000_000_000],
    ['1TB', 1e12],
    ['2.000MiB', 2 * MiB],
    ['8191TiB', 8191 * 1024 * GiB],
  ])('%s → %d bytes', (input, bytes) => {
    expect(tryParseSize(input)).toEqual({ ok: true, bytes });
    expect(parseSize(input)).toBe(bytes);
  });
});

describe('tryParseSize rejects', () => {
  it.each<[unknown, string]>([
    [-1, 'is negative'],
    [-1n, 'is negative'],
    ['-1MiB', 'is negative'],
    [1.5, 'is not a whole number of bytes'],
    ['1.3KiB', 'is not a whole number of bytes'],
    ['0.5B', 'is not a whole number of bytes'],
    ['1.5', 'is not a whole number of bytes'],
    ['1.0000001MB', 'is not a whole number of bytes'],
    [Number.NaN, 'is not a finite number'],
    [Number.POSITIVE_INFINITY, 'is not a finite number'],
    [2 ** 60, 'is too large'],
    [2n ** 60n, 'is too large'],
    ['8192TiB', 'is too large'],
    ['99999999999999999999999999999999', 'is too large'],
    ['', 'is empty'],
    ['   ', 'is empty'],
    ['MiB', 'is not a size'],
    ['2 MiB B', 'is not a size'],
    ['2  MiB', 'is not a size'],
    ['1e6', 'is not a size'],
    ['1_000', 'is not a size'],
    ['.5MiB', 'is not a size'],
    ['5.MiB', 'is not a size'],
    ['+5MiB', 'is not a size'],
    ['0x10', 'is not a size'],
    ['2mib', 'has an unknown unit "mib" (did you mean "MiB"?)'],
    ['2mb', 'has an unknown unit "mb" (did you mean "MB"?)'],
    ['2M', 'has an unknown unit "M" (did you mean "MiB"?)'],
    ['2 parsecs', 'has an unknown unit "parsecs"'],
    ['2constructor', 'has an unknown unit "constructor"'],
    [true, 'is not a size'],
    [null, 'is not a size'],
  ])('%s: %s', (input, reason) => {
    expect(tryParseSize(input)).toEqual({ ok: false, reason });
  });

  it('parseSize throws invalid-argument naming the input and what is accepted', () => {
    try {
      parseSize('2 parsecs');
      expect.unreachable();
    } catch (error) {
      expect(isAirssysError(error) && error.code).toBe('invalid-argument');
      expect((error as Error).message).toMatch(
        /^"2 parsecs" has an unknown unit "parsecs" \(accepted: .*MiB/,
      );
    }
  });
});

describe('formatSize', () => {
  it.each<[number, string]>([
    [0, '0B'],
    [1, '1B'],
    [1000, '1KB'],
    [1024, '1KiB'],
    [1500, '1500B'],
    [512 * KiB, '512KiB'],
    [1.5 * MiB, '1536KiB'],
    [4 * MiB, '4MiB'],
    [64 * MiB, '64MiB'],
    [10_000_000, '10MB'],
    [3 * GiB, '3GiB'],
    [1024 * GiB, '1TiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(parseSize(text)).toBe(bytes);
  });
});
