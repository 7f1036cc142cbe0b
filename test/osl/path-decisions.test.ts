/**
 * The memo of allowed path decisions (policy/path-decisions.ts) must never answer differently
 * than the full check: deny rules, the access asked for and the capabilities compiled all still
 * decide, and what it keeps stays bounded.
 */

import { describe, expect, it } from 'vitest';
import { type Capabilities, compileCapabilities } from '../../src/osl/policy/grants.js';
import { type Access, checkPath } from '../../src/osl/policy/path-check.js';
import {
  DECISION_CACHE_ENTRIES,
  DECISION_CACHE_KEY_LENGTH,
  decisionsOf,
} from '../../src/osl/policy/path-decisions.js';

const grants = {
  filesystem: {
    read: ['/data/in/**', '/data/out/**', '/dev/null'],
    write: ['/data/out/**'],
    deny: ['/data/in/secret/**'],
  },
};

/** The outcome of a check as plain data: the grant, or the refusal's code and message. */
function outcome(caps: Capabilities, access: Access, path: unknown): unknown {
  try {
    return { ...checkPath(caps, access, path) };
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { code: e.code, message: e.message };
  }
}

const sizes = (caps: Capabilities) => decisionsOf(caps)?.sizes();

describe('path decision memo', () => {
  it('path memo — answers exactly as the full check does, the first time and every time after', () => {
    const caps = compileCapabilities(grants);
    const full = { ...caps }; // a copy has no memo: the full check on every call
    expect(decisionsOf(full)).toBeUndefined();
    const paths = [
      '/data/in/a.txt',
      '/data/in//a.txt',
      '/data/in/./a.txt',
      '/data/in/a/../b',
      '/data/in/../in/x',
      '/data/in/.env',
      '/data/in/dir/',
      '/data/in/secret/key',
      '/data/in/x/../secret/key',
      '/data/in/SECRET/key',
      '/data/out/r.png',
      '/data/outx/r.png',
      '/dev/null',
      '/dev/sda',
      '/proc/self/environ',
      '/etc/passwd',
      'data/in/a.txt',
      '/data/in/a\0/../../etc/passwd',
      '/data/in/\uD800',
      '/..',
      '',
      new TextEncoder().encode('/data/in/bytes'),
      new Uint8Array([0x2f, 0xc0, 0xaf]),
    ];
    for (const access of ['read', 'write', 'read-write'] as const) {
      for (let round = 0; round < 3; round++) {
        for (const path of paths) expect(outcome(caps, access, path)).toEqual(outcome(full, access, path));
      }
    }
  });

  it('path memo — a deny rule still wins for a path another capability set has allowed', () => {
    const open = compileCapabilities({ filesystem: { read: ['/data/in/**'] } });
    const guarded = compileCapabilities({
      filesystem: { read: ['/data/in/**'], deny: ['/data/in/secret/**'] },
    });
    for (let i = 0; i < 3; i++) expect(checkPath(open, 'read', '/data/in/secret/key').root).toBe('/data/in');
    for (let i = 0; i < 3; i++) {
      expect(() => checkPath(guarded, 'read', '/data/in/secret/key')).toThrowError(
        expect.objectContaining({ code: 'capability-denied' }),
      );
    }
    // Host-wide deny rules too, and a copy given more deny rules does not inherit the memo.
    const hostDenied = compileCapabilities(
      { filesystem: { read: ['/data/in/**'] } },
      { deny: { filesystem: ['/data/in/secret/**'] } },
    );
    expect(() => checkPath(hostDenied, 'read', '/data/in/secret/key')).toThrowError(/deny rule/);
    const copy = { ...open, fsDeny: guarded.fsDeny };
    expect(() => checkPath(copy, 'read', '/data/in/secret/key')).toThrowError(/deny rule/);
  });

  it('path memo — a refusal is never remembered, and stays a refusal', () => {
    const caps = compileCapabilities(grants);
    for (let i = 0; i < 5; i++) {
      expect(() => checkPath(caps, 'read', '/data/in/secret/key')).toThrowError(/deny rule/);
      expect(() => checkPath(caps, 'read', '/etc/passwd')).toThrowError(/no filesystem read grant/);
    }
    expect(sizes(caps)).toEqual({ read: 0, write: 0, 'read-write': 0 });
  });

  it('path memo — a read-only grant remembered for read still refuses write and read-write', () => {
    const caps = compileCapabilities(grants);
    for (let i = 0; i < 3; i++) expect(checkPath(caps, 'read', '/data/in/a.txt').path).toBe('/data/in/a.txt');
    expect(sizes(caps)?.read).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(() => checkPath(caps, 'write', '/data/in/a.txt')).toThrowError(/no filesystem write grant/);
      expect(() => checkPath(caps, 'read-write', '/data/in/a.txt')).toThrowError(/read and write/);
    }
    expect(sizes(caps)).toEqual({ read: 1, write: 0, 'read-write': 0 });
  });

  it('path memo — keeps at most its bound per access, and forgets the oldest first', () => {
    const caps = compileCapabilities(grants);
    const many = Array.from({ length: DECISION_CACHE_ENTRIES * 10 }, (_, i) => `/data/out/f${i}`);
    for (const path of many) {
      checkPath(caps, 'read', path);
      checkPath(caps, 'write', path);
      const now = sizes(caps);
      expect(now?.read).toBeLessThanOrEqual(DECISION_CACHE_ENTRIES);
      expect(now?.write).toBeLessThanOrEqual(DECISION_CACHE_ENTRIES);
    }
    expect(sizes(caps)).toEqual({
      read: DECISION_CACHE_ENTRIES,
      write: DECISION_CACHE_ENTRIES,
      'read-write': 0,
    });
    // Forgotten paths are simply checked again.
    expect(checkPath(caps, 'write', many[0])).toEqual({ path: many[0], root: '/data/out' });
  });

  it('path memo — does not retain paths longer than its key limit', () => {
    const caps = compileCapabilities(grants);
    const long = `/data/in/${'a/'.repeat(DECISION_CACHE_KEY_LENGTH / 2)}x`;
    expect(checkPath(caps, 'read', long).path).toBe(long);
    expect(sizes(caps)?.read).toBe(0);
  });

  it('path memo — each caller gets its own grant, so none can alter what the next is told', () => {
    const caps = compileCapabilities(grants);
    const first = checkPath(caps, 'read', '/data/in/a.txt') as { root: string };
    first.root = '/';
    const second = checkPath(caps, 'read', '/data/in/a.txt') as { root: string };
    expect(second).toEqual({ path: '/data/in/a.txt', root: '/data/in' });
    second.root = '/';
    expect(checkPath(caps, 'read', '/data/in/a.txt').root).toBe('/data/in');
  });

  it('path memo — development mode remembers the reason it would have refused', () => {
    const caps = compileCapabilities({}, { securityMode: 'development' });
    for (let i = 0; i < 3; i++) {
      expect(checkPath(caps, 'read', '/etc/hosts')).toEqual({
        path: '/etc/hosts',
        root: '/etc',
        wouldDeny: 'no filesystem read grant covers /etc/hosts',
      });
    }
  });

  it('path memo — an unknown access is checked in full and never remembered', () => {
    const caps = compileCapabilities(grants);
    const odd = 'exec' as Access;
    expect(() => checkPath(caps, odd, '/data/in/a.txt')).toThrowError(/no filesystem exec grant/);
    expect(checkPath(caps, odd, '/data/out/a.txt').root).toBe('/data/out');
    expect(sizes(caps)).toEqual({ read: 0, write: 0, 'read-write': 0 });
  });

  it('path memo — compiled capabilities, their rule lists and globs are frozen', () => {
    const caps = compileCapabilities(grants);
    for (const list of [caps.fsRead, caps.fsWrite, caps.fsDeny]) {
      expect(Object.isFrozen(list)).toBe(true);
      for (const glob of list) expect(Object.isFrozen(glob)).toBe(true);
    }
    expect(() => (caps.fsDeny as unknown[]).pop()).toThrow(TypeError);
    expect(() => {
      (caps.fsRead[0] as { matches: unknown }).matches = () => true;
    }).toThrow(TypeError);
  });
});
