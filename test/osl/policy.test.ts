import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../src/osl/policy/glob.js';
import { compileCapabilities } from '../../src/osl/policy/grants.js';
import { compileHostPattern, matchHost, targetOfUrl, UrlRefusal } from '../../src/osl/policy/host-pattern.js';
import { checkPath } from '../../src/osl/policy/path-check.js';

describe('glob', () => {
  it.each([
    ['/data/in/**', '/data/in', true],
    ['/data/in/**', '/data/in/a/b/c.txt', true],
    ['/data/in/**', '/data/inx/a', false],
    ['/data/in/**', '/data/in/.env', false],
    ['/data/in/**', '/data/in/a/.git/config', false],
    ['/data/in/.cache/**', '/data/in/.cache/x', true],
    ['/data/*/in/*.txt', '/data/x/in/a.txt', true],
    ['/data/*/in/*.txt', '/data/x/y/in/a.txt', false],
    ['/data/*/in/*.txt', '/data/x/in/a.txt.bak', false],
    ['/data/**/z', '/data/z', true],
    ['/data/**/z', '/data/a/b/z', true],
    ['/data/a*b*c', '/data/abbc', true],
    ['/data/a*b*c', '/data/acb', false],
    ['/data/(x|y)', '/data/x', false],
    ['/data/(x|y)', '/data/(x|y)', true],
    ['/**', '/etc/passwd', true],
    ['/**', '/proc/self/root', false],
    ['/**', '/dev/sda', false],
    ['/dev/*', '/dev/null', false],
    ['/dev/null', '/dev/null', true],
    ['/dev/**', '/dev', false],
    ['/proc/**', '/proc', false],
    ['/dev/**', '/dev/null', false],
    ['/*/self/**', '/proc/self/environ', false],
  ])('glob — %s matches %s: %s', (pattern, path, expected) => {
    expect(compileGlob(pattern).matches(path)).toBe(expected);
  });

  it('glob — knows its literal root', () => {
    expect(compileGlob('/data/in/**').root).toBe('/data/in');
    expect(compileGlob('/data/*/x').root).toBe('/data');
    expect(compileGlob('/dev/null')).toMatchObject({ root: '/dev', exact: true });
  });

  it('glob — deny semantics reach dotfiles, special trees and descendants', () => {
    expect(compileGlob('/data/**', { dot: true }).matches('/data/.env')).toBe(true);
    expect(compileGlob('/data/secret', { dot: true }).matches('/data/secret/key')).toBe(true);
  });

  it('glob — refuses relative patterns and dot segments', () => {
    for (const bad of ['data/**', '/data/../etc', '/data/./x', '/a//b', '/a/x**']) {
      expect(() => compileGlob(bad)).toThrow(TypeError);
    }
  });
});

describe('host patterns', () => {
  const t = (url: string) => {
    const r = targetOfUrl(url);
    if (r instanceof UrlRefusal) throw new Error(r.reason);
    return r.target;
  };

  it('host — exact, wildcard and port rules', () => {
    const api = compileHostPattern('api.example.com:443');
    expect(matchHost(api, t('https://API.Example.com./x'))).toBe(true);
    expect(matchHost(api, t('http://api.example.com/x'))).toBe(false);
    const wild = compileHostPattern('*.example.com');
    expect(matchHost(wild, t('https://a.b.example.com'))).toBe(true);
    expect(matchHost(wild, t('https://example.com'))).toBe(false);
    expect(matchHost(wild, t('https://evil-example.com'))).toBe(false);
    expect(matchHost(compileHostPattern('10.0.0.5:*'), t('http://10.0.0.5:9999/'))).toBe(true);
  });

  it('host — normalises IDNs and IP literals in patterns too', () => {
    expect(compileHostPattern('bücher.example:443').host).toBe('xn--bcher-kva.example');
    expect(compileHostPattern('0x7f.1:80').host).toBe('127.0.0.1');
    expect(compileHostPattern('[::ffff:7f00:1]:80').host).toBe('127.0.0.1');
  });

  it('host — refuses malformed patterns', () => {
    for (const bad of ['http://x.com', 'a@b.com', '*.*.com', 'x.com:99999', 'x.com/path', '*.10.0.0.1']) {
      expect(() => compileHostPattern(bad)).toThrow(TypeError);
    }
  });
});

describe('capabilities', () => {
  it('capabilities — a malformed grant is an invalid-argument naming the field', () => {
    expect(() => compileCapabilities({ filesystem: { read: ['relative/**'] } })).toThrowError(
      expect.objectContaining({
        code: 'invalid-argument',
        details: expect.objectContaining({ field: 'filesystem.read' }),
      }),
    );
    expect(() => compileCapabilities({}, { securityMode: 'lax' as never })).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });

  it('capabilities — checkPath normalises and names the grant root', () => {
    const caps = compileCapabilities({ filesystem: { read: ['/data/in/**'], write: ['/data/in/out/**'] } });
    expect(checkPath(caps, 'read', '/data/in//a/./b')).toEqual({ path: '/data/in/a/b', root: '/data/in' });
    expect(checkPath(caps, 'read-write', '/data/in/out/x').root).toBe('/data/in/out');
    expect(checkPath(caps, 'read', '/data/in/a/../b').path).toBe('/data/in/b');
  });

  it('capabilities — wildcard grants refuse dotfiles, however the path is spelled', () => {
    const caps = compileCapabilities({ filesystem: { read: ['/data/in/**', '/data/*/x'] } });
    for (const path of [
      '/data/in/.env',
      '/data/in/a/.git/config',
      '/data/in//.env',
      '/data/in/.env/',
      '/data/.a/x',
    ]) {
      expect(() => checkPath(caps, 'read', path)).toThrowError(
        expect.objectContaining({ code: 'capability-denied' }),
      );
    }
    expect(checkPath(caps, 'read', '/data/in/a.env').path).toBe('/data/in/a.env');
  });

  it('capabilities — development mode allows ungranted paths but says why it would not', () => {
    const caps = compileCapabilities({}, { securityMode: 'development' });
    expect(checkPath(caps, 'read', '/etc/hosts').wouldDeny).toMatch(/no filesystem read grant/);
  });
});
