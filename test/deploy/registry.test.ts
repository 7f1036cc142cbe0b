/**
 * The component registry on a real data directory: installs and their idempotence, immutable
 * versions, lookups, semver order, retention, damaged blobs, signatures, and what survives a
 * reopen or a process killed in the middle of an install.
 */

import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComponentRegistry, type InstallRequest, signingPayload } from '../../src/deploy/registry.js';
import { AirssysError } from '../../src/shared/errors.js';
import { bundleModule } from '../support/bundle.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const counterDir = fixture('counter');
const echoDir = fixture('echo');
const counterText = readFileSync(join(counterDir, 'Component.toml'), 'utf8');
const counterBytes = new Uint8Array(readFileSync(join(counterDir, 'component.wasm')));
const source = { kind: 'files', location: '/tmp/upload' } as const;

/** The counter manifest relabelled with another version. */
const manifestAt = (version: string, text = counterText) =>
  text.replace(/^version = ".*"$/m, `version = "${version}"`);

/** The counter binary with a custom section appended, so each tag gives another hash. */
function variant(tag: string, padding = 0): Uint8Array {
  const name = new TextEncoder().encode(`airssys-test-${tag}`);
  const payload = new Uint8Array(1 + name.length + padding);
  payload[0] = name.length;
  payload.set(name, 1);
  const size: number[] = [];
  let n = payload.length;
  do {
    size.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return new Uint8Array([...counterBytes, 0, ...size, ...payload]);
}

const request = (version: string, bytes = variant(version)): InstallRequest => ({
  bytes,
  manifestText: manifestAt(version),
  source,
});

function caught(fn: () => unknown): AirssysError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AirssysError);
    return error as AirssysError;
  }
  throw new Error('expected an AirssysError');
}

const blobs = (dir: string) => readdirSync(join(dir, 'blobs')).sort();

describe('ComponentRegistry — install', () => {
  it('registry — installs a folder, and installing it again changes nothing', async () => {
    const dir = tempDir('registry');
    const registry = ComponentRegistry.open(dir);
    const first = await registry.installFolder(counterDir);
    expect(first).toMatchObject({
      name: 'counter',
      version: '0.1.0',
      manifestText: counterText,
      source: { kind: 'folder', location: counterDir.replace(/\/$/, '') },
      created: true,
    });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.signature).toBeUndefined();
    expect(registry.binary(first)).toEqual(counterBytes);
    expect(blobs(dir)).toEqual([`${first.hash}.wasm`]);

    const again = await registry.installFolder(counterDir);
    expect(again).toEqual({ ...first, created: false });
    const viaBytes = registry.install({ bytes: counterBytes, manifestText: counterText, source });
    expect(viaBytes.created).toBe(false);
    expect(registry.list()).toHaveLength(1);
    registry.close();
  });

  it('registry — refuses the same version with other bytes, says to bump it, and changes nothing', async () => {
    const dir = tempDir('registry');
    const registry = ComponentRegistry.open(dir);
    const original = await registry.installFolder(counterDir);
    const other = variant('tampered');
    const error = caught(() => registry.install({ bytes: other, manifestText: counterText, source }));
    expect(error.code).toBe('invalid-argument');
    expect(error.details).toMatchObject({
      reason: 'version-conflict',
      name: 'counter',
      version: '0.1.0',
      existingHash: original.hash,
      newHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(error.details!.newHash).not.toBe(original.hash);
    expect(error.message).toMatch(/bump \[component\] version/);
    expect(registry.list()).toEqual([{ ...original, created: false }]);
    expect(blobs(dir)).toEqual([`${original.hash}.wasm`]);
    expect(registry.binary(original)).toEqual(counterBytes);
    registry.close();
  });

  it('registry — refuses the same version and bytes with a different manifest', () => {
    const registry = ComponentRegistry.open(tempDir('registry'));
    registry.install({ bytes: counterBytes, manifestText: counterText, source });
    const changed = counterText.replace('memory = "1MiB"', 'memory = "2MiB"');
    const error = caught(() => registry.install({ bytes: counterBytes, manifestText: changed, source }));
    expect(error.details).toMatchObject({ reason: 'version-conflict', existingHash: error.details!.newHash });
    expect(error.message).toMatch(/different Component\.toml/);
    registry.close();
  });

  it('registry — invalid manifest text is invalid-manifest and stores nothing', () => {
    const dir = tempDir('registry');
    const registry = ComponentRegistry.open(dir);
    const bad = counterText.replace('name = "counter"', 'name = "Counter!"');
    expect(caught(() => registry.install({ bytes: counterBytes, manifestText: bad, source })).code).toBe(
      'invalid-manifest',
    );
    expect(
      caught(() => registry.install({ bytes: counterBytes, manifestText: 'not = [toml', source })).code,
    ).toBe('invalid-manifest');
    expect(registry.list()).toEqual([]);
    expect(blobs(dir)).toEqual([]);
    registry.close();
  });

  it('registry — refuses bytes that are not WebAssembly and a malformed source', () => {
    const registry = ComponentRegistry.open(tempDir('registry'));
    const notWasm = new TextEncoder().encode('#!/bin/sh\necho hi\n');
    expect(caught(() => registry.install({ bytes: notWasm, manifestText: counterText, source })).code).toBe(
      'invalid-component',
    );
    const badSource = { kind: 'ftp', location: 'x' } as unknown as InstallRequest['source'];
    expect(
      caught(() => registry.install({ bytes: counterBytes, manifestText: counterText, source: badSource }))
        .code,
    ).toBe('invalid-argument');
    registry.close();
  });

  it('registry — a missing folder or binary is not-found', async () => {
    const registry = ComponentRegistry.open(tempDir('registry'));
    await expect(registry.installFolder(tempDir('empty'))).rejects.toMatchObject({ code: 'not-found' });
    const folder = tempDir('no-wasm');
    writeFileSync(join(folder, 'Component.toml'), counterText);
    await expect(registry.installFolder(folder)).rejects.toMatchObject({ code: 'not-found' });
    registry.close();
  });
});

describe('ComponentRegistry — lookup and order', () => {
  it('registry — finds a version by semver, full hash, hash prefix and sha256: prefix', () => {
    const registry = ComponentRegistry.open(tempDir('registry'));
    const one = registry.install(request('1.0.0'));
    registry.install(request('1.1.0'));
    expect(registry.get('counter', '1.0.0')).toEqual({ ...one, created: false });
    expect(registry.get('counter', one.hash).version).toBe('1.0.0');
    expect(registry.get('counter', one.hash.slice(0, 8)).version).toBe('1.0.0');
    expect(registry.get('counter', `sha256:${one.hash.slice(0, 10).toUpperCase()}`).version).toBe('1.0.0');

    const missing = caught(() => registry.get('counter', '2.0.0'));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toContain('installed: 1.0.0, 1.1.0');
    expect(caught(() => registry.get('counter', 'f'.repeat(64))).code).toBe('not-found');
    expect(caught(() => registry.get('nothing', '1.0.0')).code).toBe('not-found');
    expect(caught(() => registry.get('counter', one.hash.slice(0, 7))).code).toBe('invalid-argument');
    expect(caught(() => registry.get('counter', 'latest')).message).toMatch(/at least 8 hex characters/);
    registry.close();
  });

  it('registry — an ambiguous hash prefix is invalid-argument listing the matches', () => {
    const registry = ComponentRegistry.open(tempDir('registry'));
    // Tiny synthetic binaries: the registry only checks the header, and hashing 100k of them to
    // find two sharing 8 hex characters (a 32-bit birthday collision) takes well under a second.
    const seen = new Map<string, number>();
    const make = (i: number) => {
      const b = new Uint8Array(12);
      b.set([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
      new DataView(b.buffer).setUint32(8, i);
      return b;
    };
    let pair: [number, number] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const prefix = createHash('sha256').update(make(i)).digest('hex').slice(0, 8);
      const earlier = seen.get(prefix);
      if (earlier === undefined) seen.set(prefix, i);
      else pair = [earlier, i];
    }
    const a = registry.install(request('1.0.0', make(pair[0])));
    const b = registry.install(request('1.0.1', make(pair[1])));
    const error = caught(() => registry.get('counter', a.hash.slice(0, 8)));
    expect(error.code).toBe('invalid-argument');
    expect(error.details).toMatchObject({
      reason: 'ambiguous',
      matches: [{ version: '1.0.0' }, { version: '1.0.1' }],
    });
    expect(error.message).toMatch(/longer hash prefix/);
    expect(registry.get('counter', b.hash.slice(0, 16)).version).toBe('1.0.1');

    // The same binary under two versions: its hash alone cannot say which.
    registry.install(request('1.0.2', make(pair[0])));
    expect(caught(() => registry.get('counter', a.hash)).details).toMatchObject({ reason: 'ambiguous' });
    registry.close();
  });

  it('registry — latest and list follow semver precedence, not install order', () => {
    const registry = ComponentRegistry.open(tempDir('registry'));
    for (const v of ['1.9.0', '1.0.0', '1.10.0', '1.0.0-rc.1']) registry.install(request(v));
    expect(registry.latest('counter').version).toBe('1.10.0');
    expect(registry.list({ name: 'counter' }).map((r) => r.version)).toEqual([
      '1.0.0-rc.1',
      '1.0.0',
      '1.9.0',
      '1.10.0',
    ]);
    registry.close();

    const rc = ComponentRegistry.open(tempDir('registry'));
    rc.install(request('1.0.0'));
    rc.install(request('1.0.0-rc.1'));
    expect(rc.latest('counter').version).toBe('1.0.0');
    expect(caught(() => rc.latest('echo')).code).toBe('not-found');
    rc.close();
  });

  it('registry — list filters by name and install time; components counts versions', async () => {
    let clock = 1_000;
    const registry = ComponentRegistry.open(tempDir('registry'), { now: () => clock });
    registry.install(request('1.0.0'));
    clock = 2_000;
    await registry.installFolder(echoDir);
    registry.install(request('2.0.0'));
    expect(registry.list().map((r) => `${r.name}@${r.version}`)).toEqual([
      'counter@1.0.0',
      'counter@2.0.0',
      'echo@0.1.0',
    ]);
    expect(registry.list({ name: 'echo' }).map((r) => r.version)).toEqual(['0.1.0']);
    expect(registry.list({ since: 2_000 }).map((r) => `${r.name}@${r.version}`)).toEqual([
      'counter@2.0.0',
      'echo@0.1.0',
    ]);
    expect(registry.list({ name: 'counter', since: 1_500 }).map((r) => r.installedAt)).toEqual([2_000]);
    expect(registry.components()).toEqual([
      { name: 'counter', versions: 2, latest: '2.0.0' },
      { name: 'echo', versions: 1, latest: '0.1.0' },
    ]);
    registry.close();
  });
});

describe('ComponentRegistry — removal and retention', () => {
  it('registry — remove deletes the version and its blob, keeping a blob another version shares', () => {
    const dir = tempDir('registry');
    const registry = ComponentRegistry.open(dir);
    const shared = variant('shared');
    const a = registry.install(request('1.0.0', shared));
    registry.install(request('1.0.1', shared));
    const c = registry.install(request('1.1.0'));
    expect(registry.remove('counter', c.hash.slice(0, 12)).version).toBe('1.1.0');
    expect(blobs(dir)).toEqual([`${a.hash}.wasm`]);
    registry.remove('counter', '1.0.0');
    expect(registry.binary(registry.get('counter', '1.0.1'))).toEqual(shared);
    registry.remove('counter', '1.0.1');
    expect(blobs(dir)).toEqual([]);
    expect(caught(() => registry.remove('counter', '1.0.1')).code).toBe('not-found');
    registry.close();
  });

  it('registry — retain keeps the newest N by semver and every protected hash', () => {
    const dir = tempDir('registry');
    const registry = ComponentRegistry.open(dir);
    const records = ['1.0.0', '1.1.0', '1.2.0', '1.10.0', '1.9.0'].map((v) => registry.install(request(v)));
    const oldest = records[0];
    const removed = registry.retain('counter', { keep: 2, protect: [oldest.hash] });
    expect(removed.map((r) => r.version)).toEqual(['1.1.0', '1.2.0']);
    expect(registry.list().map((r) => r.version)).toEqual(['1.0.0', '1.9.0', '1.10.0']);
    expect(blobs(dir)).toEqual(
      registry
        .list()
        .map((r) => `${r.hash}.wasm`)
        .sort(),
    );

    expect(registry.retain('counter', { keep: 0, protect: [oldest.hash] }).map((r) => r.version)).toEqual([
      '1.9.0',
      '1.10.0',
    ]);
    expect(registry.list().map((r) => r.version)).toEqual(['1.0.0']);
    expect(registry.retain('counter', { keep: 5 })).toEqual([]);
    expect(caught(() => registry.retain('counter', { keep: -1 })).code).toBe('invalid-argument');
    expect(caught(() => registry.retain('counter', { keep: 1, protect: ['abc'] })).message).toMatch(/64 hex/);
    registry.close();
  });
});

describe('ComponentRegistry — integrity and durability', () => {
  it('registry — a damaged or missing blob is storage-error, and reinstalling the bytes repairs it', () => {
    const dir = tempDir('registry');
    const registry = ComponentRegistry.open(dir);
    const record = registry.install({ bytes: counterBytes, manifestText: counterText, source });
    const file = join(dir, 'blobs', `${record.hash}.wasm`);
    const damaged = new Uint8Array(counterBytes);
    damaged[100] ^= 0xff;
    writeFileSync(file, damaged);
    const error = caught(() => registry.binary(record));
    expect(error.code).toBe('storage-error');
    expect(error.message).toMatch(/damaged.*install the same version again/);

    expect(registry.install({ bytes: counterBytes, manifestText: counterText, source }).created).toBe(false);
    expect(registry.binary(record)).toEqual(counterBytes);

    writeFileSync(file, new Uint8Array(0));
    expect(caught(() => registry.binary(record)).code).toBe('storage-error');
    registry.close();
  });

  it('registry — versions, manifests, sources and events survive closing and reopening', async () => {
    const dir = tempDir('registry');
    const first = ComponentRegistry.open(dir);
    const installed = [await first.installFolder(counterDir), first.install(request('2.0.0'))];
    first.recordEvent({ key: 'counter', from: 'uninstalled', to: 'installing', at: 5, reason: 'cli' });
    first.close();

    const second = ComponentRegistry.open(dir);
    expect(second.list()).toEqual(installed.map((r) => ({ ...r, created: false })));
    expect(second.binary(second.latest('counter'))).toEqual(variant('2.0.0'));
    expect(second.get('counter', '0.1.0').source).toEqual({
      kind: 'folder',
      location: counterDir.replace(/\/$/, ''),
    });
    expect(second.events('counter')).toEqual([
      { key: 'counter', from: 'uninstalled', to: 'installing', at: 5, reason: 'cli' },
    ]);
    second.close();
  });

  it('registry — open deletes temporary files and blobs that no version uses', () => {
    const dir = tempDir('registry');
    const first = ComponentRegistry.open(dir);
    const kept = first.install(request('1.0.0'));
    first.close();
    writeFileSync(join(dir, 'blobs', `${'ab'.repeat(32)}.wasm`), 'orphan');
    writeFileSync(join(dir, 'blobs', `.tmp-${'cd'.repeat(32)}-1-0000`), 'half');
    writeFileSync(join(dir, 'blobs', 'README'), 'not ours to delete');
    const second = ComponentRegistry.open(dir);
    expect(blobs(dir)).toEqual(['README', `${kept.hash}.wasm`].sort());
    second.close();
  });

  describe('a process killed mid-install', () => {
    let bundled: Promise<string> | undefined;
    // The child cannot load TypeScript: bundle the registry, better-sqlite3 left external.
    const bundle = () => (bundled ??= bundleModule('deploy/registry.ts', tempDir('registry-bundle')));

    /**
     * Installs 1.0.0, then installs 1.1.0 (4 MiB) and is killed: at the `stop` step — frozen
     * inside a file-system call so the kill lands exactly there — or, for `anywhere`, at
     * whatever point of a stream of installs it has reached.
     */
    async function killDuring(dir: string, stop: 'fsyncSync' | 'renameSync' | 'anywhere'): Promise<number> {
      const script = `
        import fs from 'node:fs';
        import { syncBuiltinESMExports } from 'node:module';
        const { ComponentRegistry } = await import(process.env.REG_BUNDLE);
        const registry = ComponentRegistry.open(process.env.REG_DIR);
        const text = ${JSON.stringify(counterText)};
        const bytes = Uint8Array.from(${JSON.stringify(Array.from(counterBytes))});
        const big = (i) => { const b = new Uint8Array(bytes.length + 5 + 4 * 1024 * 1024); b.set(bytes); b.set([0, 0x80, 0x80, 0x80, 2], bytes.length); b[b.length - 1] = i % 251; b[b.length - 2] = i >> 8; return b; };
        const at = (v) => text.replace(/^version = ".*"$/m, 'version = "' + v + '"');
        const source = { kind: 'files', location: 'test' };
        registry.install({ bytes, manifestText: at('1.0.0'), source });
        process.stdout.write('installed 1.0.0\\n');
        const stop = process.env.REG_STOP;
        if (stop === 'anywhere') {
          for (let i = 0; ; i++) { registry.install({ bytes: big(i), manifestText: at('2.0.' + i), source }); process.stdout.write('installed 2.0.' + i + '\\n'); }
        }
        const original = fs[stop];
        fs[stop] = (...args) => {
          const result = original(...args);
          process.stdout.write('frozen\\n');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
          return result;
        };
        syncBuiltinESMExports();
        registry.install({ bytes: big(0), manifestText: at('1.1.0'), source });
        process.stdout.write('not frozen\\n');
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, REG_BUNDLE: await bundle(), REG_DIR: dir, REG_STOP: stop },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const done = stdout.match(/installed 2\.0\.\d+/g)?.length ?? 0;
          if (stdout.includes('frozen\n') || done >= 3) resolve();
        });
        child.on('exit', () => reject(new Error(`child exited early: ${stdout} ${stderr}`)));
      });
      process.kill(child.pid!, 'SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(stdout).not.toContain('not frozen');
      return stdout.match(/installed /g)?.length ?? 0;
    }

    function expectConsistent(dir: string): ComponentRegistry {
      const registry = ComponentRegistry.open(dir);
      const records = registry.list();
      for (const record of records) expect(registry.binary(record).length).toBeGreaterThan(0);
      expect(blobs(dir)).toEqual([...new Set(records.map((r) => `${r.hash}.wasm`))].sort());
      return registry;
    }

    it('registry — killed while writing the blob: no record, no file left behind', async () => {
      const dir = tempDir('registry-kill');
      await killDuring(dir, 'fsyncSync');
      expect(readdirSync(join(dir, 'blobs')).some((f) => f.startsWith('.tmp-'))).toBe(true);
      const registry = expectConsistent(dir);
      expect(registry.list().map((r) => r.version)).toEqual(['1.0.0']);
      expect(registry.install(request('1.1.0')).created).toBe(true);
      registry.close();
    });

    it('registry — killed after the blob, before the row: no record, the orphan blob removed', async () => {
      const dir = tempDir('registry-kill');
      await killDuring(dir, 'renameSync');
      expect(blobs(dir)).toHaveLength(2);
      const registry = expectConsistent(dir);
      expect(registry.list().map((r) => r.version)).toEqual(['1.0.0']);
      registry.close();
    });

    it('registry — killed at any point of a stream of installs: every record complete', async () => {
      const dir = tempDir('registry-kill');
      const confirmed = await killDuring(dir, 'anywhere');
      const registry = expectConsistent(dir);
      const count = registry.list().length;
      expect(count).toBeGreaterThanOrEqual(confirmed);
      expect(count).toBeLessThanOrEqual(confirmed + 1);
      expect(existsSync(join(dir, 'registry.db'))).toBe(true);
      registry.close();
    });
  });
});

describe('ComponentRegistry — signatures', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const signed = (hash: string, manifestDigest: string, key = privateKey) =>
    sign(null, signingPayload({ name: 'counter', version: '0.1.0', hash, manifestDigest }), key).toString(
      'base64',
    );

  it('registry — a signature from a trusted key is verified and stored; any other is signature-invalid', () => {
    const unsigned = ComponentRegistry.open(tempDir('registry'));
    const probe = unsigned.install({ bytes: counterBytes, manifestText: counterText, source });
    unsigned.close();
    const base = { bytes: counterBytes, manifestText: counterText, source };
    const good = signed(probe.hash, probe.manifestDigest);

    const registry = ComponentRegistry.open(tempDir('registry'), {
      trustedKeys: [publicKey.export({ type: 'spki', format: 'pem' }).toString()],
      requireSignature: true,
    });
    expect(caught(() => registry.install(base)).code).toBe('signature-invalid');
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const wrongKey = signed(probe.hash, probe.manifestDigest, stranger);
    expect(caught(() => registry.install({ ...base, signature: wrongKey })).message).toMatch(/trusted keys/);
    const otherManifest = signed(probe.hash, 'f'.repeat(64));
    expect(caught(() => registry.install({ ...base, signature: otherManifest })).code).toBe(
      'signature-invalid',
    );
    expect(caught(() => registry.install({ ...base, signature: 'not base64!' })).code).toBe(
      'signature-invalid',
    );
    expect(registry.list()).toEqual([]);

    const record = registry.install({ ...base, signature: good });
    expect(record.signature).toBe(good);
    expect(registry.get('counter', '0.1.0').signature).toBe(good);
    registry.close();
  });

  it('registry — trustedKeys must be ed25519 public keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(caught(() => ComponentRegistry.open(tempDir('registry'), { trustedKeys: [rsa] })).code).toBe(
      'invalid-argument',
    );
    expect(caught(() => ComponentRegistry.open(tempDir('registry'), { trustedKeys: ['nope'] })).code).toBe(
      'invalid-argument',
    );
  });
});
