import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirssysError } from '../../src/shared/errors.js';
import { DEFAULT_HOST_POLICY, resolvePolicy } from '../../src/wasm/engine/policy.js';
import {
  checkHostPattern,
  checkPathGlob,
  checkTopicPattern,
  isSemver,
  loadManifest,
  type Manifest,
  parseManifest,
  suggestKey,
} from '../../src/wasm/manifest/index.js';

const MiB = 1024 * 1024;
const baseDir = path.resolve('/srv/components/counter');

function manifest(resources: string, extra = ''): string {
  return `[component]\nname = "counter"\nversion = "1.0.0"\n\n[resources]\n${resources}\n${extra}`;
}

function parseError(text: string, options: Partial<Parameters<typeof parseManifest>[1]> = {}): AirssysError {
  try {
    parseManifest(text, { baseDir, ...options });
  } catch (error) {
    if (error instanceof AirssysError) return error;
    throw error;
  }
  throw new Error('expected parseManifest to fail');
}

describe('host policy', () => {
  it('a custom policy with a 64MiB maximum accepts a larger memory', () => {
    const text = manifest('memory = "48MiB"');
    const policy = resolvePolicy({ maxMemoryBytes: 64 * MiB });
    expect(parseManifest(text, { policy, baseDir }).resources.memoryBytes).toBe(48 * MiB);
    expect(parseManifest(manifest('memory = "64MiB"'), { policy, baseDir }).resources.memoryBytes).toBe(
      64 * MiB,
    );
    const error = parseError(text);
    expect(error.message).toBe(
      `resources.memory: "48MiB" is above the host's maximum of 4MiB (allowed 512KiB..4MiB); raise the maximum with --max-memory (host, install, run, serve, validate), max-memory in the host's config, or maxMemoryBytes when embedding`,
    );
    expect(parseError(manifest('memory = "65MiB"'), { policy }).message).toContain('(allowed 512KiB..64MiB)');
  });

  it('a custom minimum is enforced and reported', () => {
    const policy = resolvePolicy({ minMemoryBytes: 2 * MiB });
    const error = parseError(manifest('memory = "1MiB"'), { policy });
    expect(error.message).toBe(
      `resources.memory: "1MiB" is below the host's minimum of 2MiB (allowed 2MiB..4MiB)`,
    );
    expect(error.details).toMatchObject({
      field: 'resources.memory',
      min: 2 * MiB,
      max: 4 * MiB,
      value: MiB,
    });
  });

  it('defaults are capped at a stricter policy, and explicit values checked against it', () => {
    const policy = resolvePolicy({ maxFuel: 1000, maxTimeoutMs: 50, maxMailbox: 8 });
    const { resources } = parseManifest(manifest('memory = "1MiB"'), { policy, baseDir });
    expect(resources).toEqual({ memoryBytes: MiB, fuel: 1000, timeoutMs: 50, mailbox: 8 });
    expect(parseError(manifest('memory = "1MiB"\nfuel = 1001'), { policy }).message).toBe(
      "resources.fuel: 1001 is above the host's maximum of 1000 (allowed 1..1000)",
    );
  });

  it('uses DEFAULT_HOST_POLICY when none is given', () => {
    expect(parseError(manifest('memory = "5MiB"')).message).toContain(
      `${(DEFAULT_HOST_POLICY.maxMemoryBytes / MiB).toString()}MiB`,
    );
  });
});

describe('parseManifest', () => {
  const text = manifest('memory = "2MiB"', '[permissions]\nstorage = { namespaces = ["counter"] }\n');

  it('resolves wasm against baseDir and records the source', () => {
    const m = parseManifest(text, { baseDir, path: path.join(baseDir, 'Component.toml') });
    expect(m.component.wasm).toBe(path.join(baseDir, 'counter.wasm'));
    expect(m.source.path).toBe(path.join(baseDir, 'Component.toml'));
    expect(m.source.digest).toBe(createHash('sha256').update(text).digest('hex'));
    expect(m.source.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(parseManifest(text, { baseDir }).source.path).toBeUndefined();
  });

  it('returns a deeply frozen value', () => {
    const m: Manifest = parseManifest(text, { baseDir });
    for (const value of [
      m,
      m.component,
      m.resources,
      m.permissions,
      m.permissions.storage,
      m.config,
      m.source,
    ]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    expect(Object.isFrozen(m.permissions.storage.namespaces)).toBe(true);
    expect(() => (m.permissions.storage.namespaces as string[]).push('x')).toThrow(TypeError);
    expect(() => {
      (m.resources as { fuel: number }).fuel = 1;
    }).toThrow(TypeError);
  });

  it('omits optional description and world when absent', () => {
    const m = parseManifest(text, { baseDir });
    expect('description' in m.component).toBe(false);
    expect('world' in m.component).toBe(false);
  });

  it('throws invalid-manifest blamed on the guest with the field in details', () => {
    const error = parseError(manifest('memory = "8MiB"'));
    expect(error).toBeInstanceOf(AirssysError);
    expect(error.code).toBe('invalid-manifest');
    expect(error.blame).toBe('guest');
    expect(error.details).toMatchObject({ field: 'resources.memory' });
    expect(error.details).not.toHaveProperty('path');
    const withPath = parseError(manifest('memory = "8MiB"'), { path: '/x/Component.toml' });
    expect(withPath.details).toMatchObject({
      field: 'resources.memory',
      path: path.resolve('/x/Component.toml'),
    });
  });

  it('reports TOML syntax errors with line and column', () => {
    const error = parseError('[component]\nname = "counter"\nversion = 1.0.0\n');
    expect(error.message).toMatch(/^toml: syntax error at line 3, column \d+: /);
    expect(error.details).toMatchObject({ field: 'toml', line: 3 });
    expect(error.cause).toBeDefined();
  });

  it('rejects __proto__ keys instead of polluting prototypes', () => {
    const error = parseError(manifest('memory = "2MiB"', '[config]\n__proto__ = "x"\n'));
    expect(error.details?.field).toBe('toml');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('rejects an oversized manifest', () => {
    const error = parseError(`${manifest('memory = "2MiB"')}\n# ${'x'.repeat(1024 * 1024)}\n`);
    expect(error.message).toBe('toml: the manifest is larger than 1MiB');
  });

  it('keeps config in document order with string values only', () => {
    const m = parseManifest(manifest('memory = "2MiB"', '[config]\nb = "2"\na = "1"\n"x.y" = ""\n'), {
      baseDir,
    });
    expect(Object.entries(m.config)).toEqual([
      ['b', '2'],
      ['a', '1'],
      ['x.y', ''],
    ]);
  });
});

describe('loadManifest', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'airssys-manifest-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads <dir>/Component.toml when given a folder', async () => {
    const text = manifest('memory = "1MiB"');
    await writeFile(path.join(dir, 'Component.toml'), text);
    const m = await loadManifest(dir, DEFAULT_HOST_POLICY);
    expect(m.component.wasm).toBe(path.join(dir, 'counter.wasm'));
    expect(m.source).toEqual({
      path: path.join(dir, 'Component.toml'),
      digest: createHash('sha256').update(text).digest('hex'),
    });
    expect(await loadManifest(path.join(dir, 'Component.toml'), DEFAULT_HOST_POLICY)).toEqual(m);
  });

  it('is not-found for a missing file or a folder without Component.toml', async () => {
    await expect(loadManifest(path.join(dir, 'nope.toml'), DEFAULT_HOST_POLICY)).rejects.toMatchObject({
      code: 'not-found',
    });
    const empty = await mkdtemp(path.join(dir, 'empty-'));
    await expect(loadManifest(empty, DEFAULT_HOST_POLICY)).rejects.toMatchObject({
      code: 'not-found',
      message: `no Component.toml in ${empty}`,
    });
  });

  it('rejects a file that is not UTF-8', async () => {
    const file = path.join(dir, 'latin1.toml');
    await writeFile(file, Buffer.from([0x23, 0x20, 0xe9, 0x0a]));
    await expect(loadManifest(file, DEFAULT_HOST_POLICY)).rejects.toMatchObject({
      code: 'invalid-manifest',
      message: 'toml: the manifest is not valid UTF-8',
      details: { field: 'toml', path: file },
    });
  });
});

describe('pattern checks', () => {
  it.each([
    ['api.example.com:443', 'api.example.com:443'],
    ['API.Example.com', 'api.example.com'],
    ['*.internal.example:8080', '*.internal.example:8080'],
    ['*', '*'],
    ['*:*', '*:*'],
    ['127.0.0.1:080', '127.0.0.1:80'],
    ['[::1]', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]:443'],
  ])('host %j → %j', (input, value) => {
    expect(checkHostPattern(input)).toEqual({ value });
  });

  it.each([
    '',
    'a b',
    '*.',
    '*.*.example.com',
    'ex*ample.com',
    '-bad.example.com',
    '256.1.1.1',
    '*.10.0.0.1',
    'host:0',
    'host:65536',
    'host:http',
    '[::1',
    '[nope]:80',
    '[::1]80',
    `${'a'.repeat(64)}.com`,
  ])('host %j is rejected', (input) => {
    expect(checkHostPattern(input)).toHaveProperty('reason');
  });

  it.each(['/data/**', '/', '/a/*.txt', '/a/{b,c}/d', '/a/[!x]y', '/a/[]]'])('path %j is accepted', (p) => {
    expect(checkPathGlob(p)).toEqual({ value: p });
  });

  it.each(['', 'a', '/a//b', '/a/', '/a/./b', '/a/../b', '/a\\b', '/a/b]', '/a/{b', '/a/}b', '/a/**b'])(
    'path %j is rejected',
    (p) => {
      expect(checkPathGlob(p)).toHaveProperty('reason');
    },
  );

  it.each(['a', 'a.b', '*', '>', 'a.*.c', 'a.>', 'A_b-1.*.>'])('topic %j is accepted', (t) => {
    expect(checkTopicPattern(t)).toEqual({ value: t });
  });

  it.each(['', '.', 'a.', '.a', 'a..b', 'a.>.b', '>.a', 'a*', 'a.b>', 'a b', 'a/b'])(
    'topic %j is rejected',
    (t) => {
      expect(checkTopicPattern(t)).toHaveProperty('reason');
    },
  );

  it('semver is strict', () => {
    for (const v of ['0.0.0', '1.2.3', '1.0.0-rc.1', '1.0.0+build.5', '1.0.0-0.3.7', '1.0.0-x-y.z+a-b']) {
      expect(isSemver(v), v).toBe(true);
    }
    for (const v of ['1', '1.2', 'v1.2.3', '01.2.3', '1.2.3-', '1.2.3-01', '1.2.3+', '1.2.3.4', ' 1.2.3']) {
      expect(isSemver(v), v).toBe(false);
    }
  });

  it('suggests near keys only', () => {
    expect(suggestKey('timeout_ms', ['memory', 'timeout-ms'])).toBe('timeout-ms');
    expect(suggestKey('Memory', ['memory', 'timeout-ms'])).toBe('memory');
    expect(suggestKey('memroy', ['memory', 'timeout-ms'])).toBe('memory');
    expect(suggestKey('cpu', ['memory', 'timeout-ms'])).toBeUndefined();
  });
});
