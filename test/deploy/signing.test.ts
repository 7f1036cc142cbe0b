/**
 * Component signatures and trust levels: signing a folder and verifying it, every way of
 * tampering with a signed folder (each refused as signature-invalid, whatever the host accepts),
 * the trust level each install records, the host's trust policy, and data directories from
 * before trust levels.
 */

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ComponentRegistry, type RegistryOptions } from '../../src/deploy/registry.js';
import {
  generateKeyPair,
  keyFingerprint,
  readSignatureFile,
  SIGNATURE_FILE_NAME,
  signComponent,
  verifyComponent,
  writeSignatureFile,
} from '../../src/deploy/signing.js';
import { AirssysError } from '../../src/shared/errors.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const signer = generateKeyPair();
const stranger = generateKeyPair();

/** A copy of the counter fixture, signed by `key` unless it is null. */
async function counterCopy(key: string | null = signer.privateKey): Promise<string> {
  const dir = join(tempDir('signing'), 'counter');
  cpSync(fixture('counter'), dir, { recursive: true });
  if (key !== null) writeSignatureFile(dir, await signComponent(dir, key));
  return dir;
}

const open = (options: RegistryOptions = {}) => ComponentRegistry.open(tempDir('signing-data'), options);
const trusting = (options: RegistryOptions = {}) => open({ trustedKeys: [signer.publicKey], ...options });

async function rejected(promise: Promise<unknown>): Promise<AirssysError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AirssysError);
    return error as AirssysError;
  }
  throw new Error('expected an AirssysError');
}

function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8');
  const changed = text.replace(from, to);
  expect(changed).not.toBe(text);
  writeFileSync(file, changed);
}

describe('signing — sign and verify a component folder', () => {
  it('signing — a signed folder verifies against its key and names what it covers', async () => {
    const dir = await counterCopy();
    expect(readSignatureFile(dir)).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(readFileSync(join(dir, SIGNATURE_FILE_NAME), 'utf8')).toMatch(/\n$/);
    const verified = await verifyComponent(dir, [stranger.publicKey, signer.publicKey]);
    expect(verified).toMatchObject({
      name: 'counter',
      version: '0.1.0',
      keyFingerprint: keyFingerprint(signer.publicKey),
    });
    expect(verified.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(verified.manifestDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signing — generateKeyPair gives PEM ed25519 keys, a fresh pair each time', () => {
    expect(signer.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(signer.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(keyFingerprint(signer.publicKey)).not.toBe(keyFingerprint(stranger.publicKey));
  });

  it('signing — a folder installs as trusted with its Component.sig picked up', async () => {
    const dir = await counterCopy();
    const registry = trusting({ requireTrust: 'trusted' });
    const record = await registry.installFolder(dir);
    expect(record).toMatchObject({ name: 'counter', trust: 'trusted', created: true });
    expect(record.signature).toBe(readSignatureFile(dir));
    expect(registry.get('counter', '0.1.0').trust).toBe('trusted');
    registry.close();
  });

  it('signing — a private key is refused where a public key belongs, and the other way round', async () => {
    expect((await rejected((async () => open({ trustedKeys: [signer.privateKey] }))())).code).toBe(
      'invalid-argument',
    );
    expect((await rejected(signComponent(await counterCopy(null), signer.publicKey))).code).toBe(
      'invalid-argument',
    );
  });
});

describe('signing — tampering is always signature-invalid', () => {
  const cases: [string, (dir: string) => unknown][] = [
    [
      'a byte of the binary flipped',
      (dir) => {
        const bytes = readFileSync(join(dir, 'component.wasm'));
        bytes[bytes.length - 1] ^= 0x01;
        writeFileSync(join(dir, 'component.wasm'), bytes);
      },
    ],
    [
      'a permission widened in Component.toml after signing',
      (dir) =>
        edit(join(dir, 'Component.toml'), 'namespaces = ["counter"]', 'namespaces = ["counter", "secrets"]'),
    ],
    [
      'the version label changed',
      (dir) => edit(join(dir, 'Component.toml'), /^version = ".*"$/m, 'version = "0.1.1"'),
    ],
    [
      'a signature by a key the host does not trust',
      async (dir) => writeSignatureFile(dir, await signComponent(dir, stranger.privateKey)),
    ],
    ['malformed base64', (dir) => writeFileSync(join(dir, SIGNATURE_FILE_NAME), 'not base64!!\n')],
    [
      'a truncated signature',
      (dir) => writeFileSync(join(dir, SIGNATURE_FILE_NAME), readSignatureFile(dir)!.slice(0, 60)),
    ],
    ['an empty Component.sig', (dir) => writeFileSync(join(dir, SIGNATURE_FILE_NAME), '\n')],
  ];

  for (const [what, tamper] of cases) {
    it(`signing — ${what}: verify and install both refuse it, whatever the host accepts`, async () => {
      const dir = await counterCopy();
      await tamper(dir);
      const verify = await rejected(verifyComponent(dir, [signer.publicKey]));
      expect(verify.code).toBe('signature-invalid');
      expect(verify.message).toMatch(/sign/);
      for (const level of ['development', 'unknown', 'trusted'] as const) {
        const registry = trusting({ requireTrust: level });
        const error = await rejected(registry.installFolder(dir));
        expect(error.code).toBe('signature-invalid');
        expect(['malformed', 'unverified']).toContain(error.details?.reason);
        expect(registry.list()).toEqual([]);
        registry.close();
      }
    });
  }

  it('signing — a malformed signature is refused even by a host without trusted keys', async () => {
    const dir = await counterCopy();
    writeFileSync(join(dir, SIGNATURE_FILE_NAME), readSignatureFile(dir)!.slice(0, 60));
    const registry = open();
    const error = await rejected(registry.installFolder(dir));
    expect(error).toMatchObject({ code: 'signature-invalid', details: { reason: 'malformed' } });
    registry.close();
  });

  it('signing — unsigned where trusted is required is refused with what to do', async () => {
    const dir = await counterCopy(null);
    const registry = trusting({ requireTrust: 'trusted' });
    const error = await rejected(registry.installFolder(dir));
    expect(error).toMatchObject({
      code: 'signature-invalid',
      details: { reason: 'unsigned', trust: 'unknown' },
    });
    expect(error.message).toMatch(/keys sign .* Component\.sig/);
    expect((await rejected(verifyComponent(dir, [signer.publicKey]))).details?.reason).toBe('unsigned');
    registry.close();
  });

  it('signing — signed, but no trusted keys to check it with, where trusted is required', async () => {
    const registry = open({ requireTrust: 'trusted' });
    const error = await rejected(registry.installFolder(await counterCopy()));
    expect(error).toMatchObject({ code: 'signature-invalid', details: { reason: 'no-trusted-keys' } });
    registry.close();
  });
});

describe('signing — trust levels', () => {
  it('trust — unsigned is unknown; signed without trusted keys is unknown, its signature kept', async () => {
    const registry = open();
    expect((await registry.installFolder(await counterCopy(null))).trust).toBe('unknown');
    const signedRegistry = open();
    const signed = await signedRegistry.installFolder(await counterCopy());
    expect(signed).toMatchObject({ trust: 'unknown', signature: expect.any(String) });
    registry.close();
    signedRegistry.close();
  });

  it('trust — the development flag records development, even for a valid signature', async () => {
    const registry = trusting();
    const record = await registry.installFolder(await counterCopy(), { development: true });
    expect(record.trust).toBe('development');
    expect(registry.list()[0].trust).toBe('development');
    registry.close();
  });

  it('trust — requireTrust unknown refuses development builds and accepts unsigned ones', async () => {
    const registry = trusting({ requireTrust: 'unknown' });
    const error = await rejected(registry.installFolder(await counterCopy(null), { development: true }));
    expect(error).toMatchObject({
      code: 'signature-invalid',
      details: { reason: 'development-refused', trust: 'development', required: 'unknown' },
    });
    expect((await registry.installFolder(await counterCopy(null))).trust).toBe('unknown');
    registry.close();
  });

  it('trust — requireSignature: true still means trusted only', async () => {
    const registry = trusting({ requireSignature: true });
    expect(registry.requiredTrust('counter')).toBe('trusted');
    expect((await rejected(registry.installFolder(await counterCopy(null)))).code).toBe('signature-invalid');
    expect((await registry.installFolder(await counterCopy())).trust).toBe('trusted');
    registry.close();
  });

  it('trust — a per-component level replaces the host-wide one for that component', async () => {
    const loose = trusting({ requireTrust: 'trusted', requireTrustFor: { counter: 'development' } });
    expect(loose.requiredTrust('counter')).toBe('development');
    expect(loose.requiredTrust('echo')).toBe('trusted');
    expect((await loose.installFolder(await counterCopy(null), { development: true })).trust).toBe(
      'development',
    );
    loose.close();
    const strict = trusting({ requireTrustFor: { counter: 'trusted' } });
    expect((await rejected(strict.installFolder(await counterCopy(null)))).code).toBe('signature-invalid');
    strict.close();
  });

  it('trust — an unknown level is a configuration error at open', async () => {
    const bad = { requireTrust: 'sorta' } as unknown as RegistryOptions;
    const error = await rejected((async () => open(bad))());
    expect(error).toMatchObject({ code: 'invalid-argument', details: { field: 'requireTrust' } });
  });

  it('trust — installing the same version again signed raises unknown to trusted, never lowers it', async () => {
    const dir = await counterCopy(null);
    const registry = trusting();
    expect((await registry.installFolder(dir)).trust).toBe('unknown');
    writeSignatureFile(dir, await signComponent(dir, signer.privateKey));
    const raised = await registry.installFolder(dir);
    expect(raised).toMatchObject({ created: false, trust: 'trusted', signature: readSignatureFile(dir) });
    const again = await registry.installFolder(dir, { development: true });
    expect(again.trust).toBe('trusted');
    expect(registry.get('counter', '0.1.0').trust).toBe('trusted');
    registry.close();
  });

  it('trust — checkTrust judges a stored version with the policy and keys of today', async () => {
    const dataDir = tempDir('signing-data');
    const before = ComponentRegistry.open(dataDir, { trustedKeys: [signer.publicKey] });
    await before.installFolder(await counterCopy());
    const unsigned = await counterCopy(null);
    edit(join(unsigned, 'Component.toml'), /^version = ".*"$/m, 'version = "0.2.0"');
    await before.installFolder(unsigned);
    before.close();

    const strict = ComponentRegistry.open(dataDir, {
      trustedKeys: [signer.publicKey],
      requireTrust: 'trusted',
    });
    expect(strict.checkTrust(strict.get('counter', '0.1.0'))).toBe('trusted');
    expect(() => strict.checkTrust(strict.get('counter', '0.2.0'))).toThrow(/unsigned/);
    strict.close();
    // The signer's key withdrawn: its versions are no longer trusted.
    const rotated = ComponentRegistry.open(dataDir, { trustedKeys: [stranger.publicKey] });
    expect(() => rotated.checkTrust(rotated.get('counter', '0.1.0'))).toThrow(/does not verify/);
    rotated.close();
  });

  it('trust — a signature stored unchecked becomes trusted once the host has the key', async () => {
    const dataDir = tempDir('signing-data');
    const keyless = ComponentRegistry.open(dataDir);
    expect((await keyless.installFolder(await counterCopy())).trust).toBe('unknown');
    keyless.close();
    const strangers = ComponentRegistry.open(dataDir, { trustedKeys: [stranger.publicKey] });
    expect(strangers.get('counter', '0.1.0').trust).toBe('unknown');
    strangers.close();
    const keyed = ComponentRegistry.open(dataDir, { trustedKeys: [signer.publicKey] });
    expect(keyed.get('counter', '0.1.0').trust).toBe('trusted');
    keyed.close();
  });

  it('trust — a data directory from before trust levels opens, its versions unknown or verified', async () => {
    const dataDir = tempDir('signing-v1');
    const probe = ComponentRegistry.open(tempDir('signing-data'));
    const signedDir = await counterCopy();
    const record = await probe.installFolder(signedDir);
    probe.close();
    // The version-1 schema, as an older host left it.
    const db = new Database(join(dataDir, 'registry.db'));
    db.exec(`CREATE TABLE versions (name TEXT NOT NULL, version TEXT NOT NULL, hash TEXT NOT NULL,
      manifest_digest TEXT NOT NULL, manifest_text TEXT NOT NULL, signature TEXT, source_kind TEXT NOT NULL,
      source_location TEXT NOT NULL, installed_at INTEGER NOT NULL, PRIMARY KEY (name, version)) WITHOUT ROWID;
      PRAGMA user_version = 1;`);
    const insert = db.prepare('INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run(
      'counter',
      '0.1.0',
      record.hash,
      record.manifestDigest,
      record.manifestText,
      record.signature,
      'folder',
      signedDir,
      1,
    );
    insert.run(
      'counter',
      '0.0.9',
      record.hash,
      'a'.repeat(64),
      record.manifestText,
      null,
      'folder',
      signedDir,
      1,
    );
    db.close();
    mkdirSync(join(dataDir, 'blobs'));
    cpSync(join(signedDir, 'component.wasm'), join(dataDir, 'blobs', `${record.hash}.wasm`));

    const plain = ComponentRegistry.open(dataDir);
    expect(plain.list().map((v) => [v.version, v.trust])).toEqual([
      ['0.0.9', 'unknown'],
      ['0.1.0', 'unknown'],
    ]);
    expect(plain.binary(plain.get('counter', '0.1.0'))).toHaveLength(
      readFileSync(join(signedDir, 'component.wasm')).length,
    );
    plain.close();
    const keyed = ComponentRegistry.open(dataDir, { trustedKeys: [signer.publicKey] });
    expect(keyed.list().map((v) => [v.version, v.trust])).toEqual([
      ['0.0.9', 'unknown'],
      ['0.1.0', 'trusted'],
    ]);
    keyed.close();
    const check = new Database(join(dataDir, 'registry.db'), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    check.close();
  });
});
