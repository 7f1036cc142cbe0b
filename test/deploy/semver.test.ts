/** Semantic-version precedence (semver.org §11), which orders the registry's versions. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSemver, isValidSemver, parseSemver, tryParseSemver } from '../../src/deploy/semver.js';

describe('semver', () => {
  it('semver — parses core, prerelease and build', () => {
    expect(parseSemver('1.2.3-rc.1+build.5')).toEqual({
      major: '1',
      minor: '2',
      patch: '3',
      prerelease: ['rc', '1'],
      build: ['build', '5'],
    });
    expect(tryParseSemver('1.2.3')?.prerelease).toEqual([]);
  });

  it('semver — rejects what is not strict semver, saying what is accepted', () => {
    for (const bad of ['1.2', 'v1.2.3', '01.2.3', '1.2.3-01', '1.2.3-', '1.2.3+', '', '1.2.3.4', 'a.b.c']) {
      expect(isValidSemver(bad), bad).toBe(false);
    }
    expect(() => parseSemver('v1.0.0')).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => parseSemver('v1.0.0')).toThrow(/MAJOR\.MINOR\.PATCH/);
  });

  it('semver — orders the example from semver.org §11', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.9.0',
      '1.10.0',
      '2.0.0',
      '10.0.0',
    ];
    const shuffled = [...ordered].reverse();
    shuffled.push(shuffled.shift()!);
    expect(shuffled.sort(compareSemver)).toEqual(ordered);
  });

  it('semver — numbers compare as numbers, however large; build metadata is ignored', () => {
    expect(compareSemver('1.10.0', '1.9.0')).toBeGreaterThan(0);
    expect(compareSemver('1.0.0', '1.0.0-rc.1')).toBeGreaterThan(0);
    expect(compareSemver('9007199254740993.0.0', '9007199254740992.0.0')).toBeGreaterThan(0);
    expect(compareSemver('1.0.0+a', '1.0.0+b')).toBe(0);
    expect(compareSemver('1.0.0-2', '1.0.0-10')).toBeLessThan(0);
    expect(compareSemver('1.0.0-10', '1.0.0-a')).toBeLessThan(0);
  });

  it('semver — comparison is a total order consistent with its sign (property)', () => {
    const id = fc.oneof(fc.nat({ max: 20 }).map(String), fc.constantFrom('alpha', 'beta', 'rc', 'x-1', 'B'));
    const version = fc
      .record({
        core: fc.tuple(fc.nat({ max: 12 }), fc.nat({ max: 12 }), fc.nat({ max: 12 })),
        pre: fc.array(id, { maxLength: 3 }),
      })
      .map(({ core, pre }) => `${core.join('.')}${pre.length ? `-${pre.join('.')}` : ''}`);
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(isValidSemver(a)).toBe(true);
        // Antisymmetric (summed, not negated: -0 is not 0 to toBe when a equals b).
        expect(Math.sign(compareSemver(a, b)) + Math.sign(compareSemver(b, a))).toBe(0);
        expect(compareSemver(a, b) === 0).toBe(a === b);
        if (compareSemver(a, b) <= 0 && compareSemver(b, c) <= 0) {
          expect(compareSemver(a, c)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });
});
