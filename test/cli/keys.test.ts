// `airssys-wasm keys generate / sign / verify`, and `install --trusted-key --require-trust`,
// driven as a user does: a real process, its output and exit codes. The command is bundled from
// src/ into a temporary folder (as scripts/bundle-cli.mjs does for dist/), so these tests check
// the code as it is, with or without a build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

let entry = '';

beforeAll(async () => {
  const root = tempDir('keys-cli');
  entry = join(root, 'dist', 'cli', 'airssys-wasm.js');
  // main.ts reads ../../package.json beside its bundle; native and framework dependencies are
  // loaded from this repository's node_modules by absolute URL.
  copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  const require = createRequire(import.meta.url);
  const external = ['better-sqlite3', 'fastify'];
  await build({
    entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'external-by-url',
        setup(b) {
          b.onResolve({ filter: new RegExp(`^(${external.join('|')})$`) }, (args) => ({
            path: pathToFileURL(require.resolve(args.path)).href,
            external: true,
          }));
        },
      },
    ],
  });
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

function counterCopy(): string {
  const dir = join(tempDir('keys-component'), 'counter');
  cpSync(fixture('counter'), dir, { recursive: true });
  return dir;
}

describe('airssys-wasm keys', () => {
  const keys = join(tempDir('keys'), 'keys');
  const privateKey = join(keys, 'airssys.key');
  const publicKey = join(keys, 'airssys.pub');
  const component = counterCopy();

  it('keys generate — writes a private key only its owner can read, and the public key', () => {
    const r = cli('keys', 'generate', '--out', keys, '--json');
    expect(r.status).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, privateKey, publicKey });
    expect(doc.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(privateKey, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(publicKey, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    if (process.platform !== 'win32') expect(statSync(privateKey).mode & 0o777).toBe(0o600);
  });

  it('keys generate — refuses to overwrite an existing pair', () => {
    const before = readFileSync(privateKey, 'utf8');
    const r = cli('keys', 'generate', '--out', keys, '--json');
    expect(r.status).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(r.json().error.message).toMatch(/already exists.*never overwritten/);
    expect(readFileSync(privateKey, 'utf8')).toBe(before);
  });

  it('keys sign — writes Component.sig beside Component.toml', () => {
    const r = cli('keys', 'sign', component, '--key', privateKey);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^signed counter@0\.1\.0 \(sha256 [0-9a-f]{12}\) with key sha256:[0-9a-f]{12}: wrote /,
    );
    expect(readFileSync(join(component, 'Component.sig'), 'utf8')).toMatch(/^[A-Za-z0-9+/]{86}==\n$/);
    const doc = cli('keys', 'sign', join(component, 'Component.toml'), '--key', privateKey, '--json').json();
    expect(doc).toMatchObject({
      ok: true,
      name: 'counter',
      version: '0.1.0',
      file: join(component, 'Component.sig'),
    });
  });

  it('keys verify — exits 0 for the signer’s public key', () => {
    const r = cli('keys', 'verify', component, '--key', publicKey);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^counter@0\.1\.0: signature valid/);
    expect(cli('keys', 'verify', component, '--key', publicKey, '--json').json()).toMatchObject({
      ok: true,
      valid: true,
      name: 'counter',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('keys verify — another key is signature-invalid, exit 1', () => {
    const other = join(tempDir('keys-other'), 'k');
    expect(cli('keys', 'generate', '--out', other).status).toBe(0);
    const r = cli('keys', 'verify', component, '--key', join(other, 'airssys.pub'), '--json');
    expect(r.status).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'signature-invalid' } });
    // Any of several keys will do.
    expect(
      cli('keys', 'verify', component, '--key', join(other, 'airssys.pub'), '--key', publicKey).status,
    ).toBe(0);
  });

  it('keys verify — a tampered binary or manifest fails with signature-invalid', () => {
    const binary = counterCopy();
    const manifest = counterCopy();
    for (const dir of [binary, manifest])
      expect(cli('keys', 'sign', dir, '--key', privateKey).status).toBe(0);
    const bytes = readFileSync(join(binary, 'component.wasm'));
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(join(binary, 'component.wasm'), bytes);
    const toml = join(manifest, 'Component.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('["counter"]', '["counter", "secrets"]'));
    for (const dir of [binary, manifest]) {
      const r = cli('keys', 'verify', dir, '--key', publicKey, '--json');
      expect(r.status).toBe(1);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'signature-invalid' } });
      const text = cli('keys', 'verify', dir, '--key', publicKey);
      expect(text.status).toBe(1);
      expect(text.stderr).toMatch(
        /^error \[signature-invalid\]: counter@0\.1\.0: the signature does not verify/,
      );
    }
  });

  it('keys verify — an unsigned folder says to sign it', () => {
    const r = cli('keys', 'verify', counterCopy(), '--key', publicKey, '--json');
    expect(r.status).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'signature-invalid' } });
    expect(r.json().error.message).toMatch(/no Component\.sig .*keys sign/);
  });

  it('keys sign and verify — need --key (exit 2)', () => {
    expect(cli('keys', 'sign', component).status).toBe(2);
    expect(cli('keys', 'verify', component).status).toBe(2);
  });

  it('has --help for keys and each subcommand', () => {
    for (const args of [['keys'], ['keys', 'generate'], ['keys', 'sign'], ['keys', 'verify']]) {
      const r = cli(...args, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: airssys-wasm ${args.join(' ')}`));
    }
    expect(cli('keys', 'verify', '--help').stdout).toMatch(/--json/);
  });
});

describe('airssys-wasm install — trusted keys and trust levels', () => {
  const keys = join(tempDir('install-keys'), 'keys');
  const dataDir = tempDir('install-trust');

  it('install — a signed folder is trusted with --trusted-key; unsigned is refused under --require-trust trusted', () => {
    expect(cli('keys', 'generate', '--out', keys).status).toBe(0);
    const signed = counterCopy();
    expect(cli('keys', 'sign', signed, '--key', join(keys, 'airssys.key')).status).toBe(0);
    const trust = ['--trusted-key', join(keys, 'airssys.pub'), '--require-trust', 'trusted'];

    const unsigned = cli('install', counterCopy(), '--data-dir', dataDir, ...trust, '--json');
    expect(unsigned.status).toBe(1);
    expect(unsigned.json()).toMatchObject({ ok: false, error: { code: 'signature-invalid' } });
    expect(unsigned.json().error.message).toMatch(/keys sign/);

    const r = cli('install', signed, '--data-dir', dataDir, ...trust, '--json');
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, created: true, signed: true, trust: 'trusted' });
    expect(cli('list', '--data-dir', dataDir, '--json').json().versions[0]).toMatchObject({
      trust: 'trusted',
    });
  });

  it('install — --development records development, refused under --require-trust unknown', () => {
    const dev = counterCopy();
    const toml = join(dev, 'Component.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('version = "0.1.0"', 'version = "0.3.0-dev"'));
    const refused = cli(
      'install',
      dev,
      '--data-dir',
      dataDir,
      '--development',
      '--require-trust',
      'unknown',
      '--json',
    );
    expect(refused.status).toBe(1);
    expect(refused.json().error).toMatchObject({
      code: 'signature-invalid',
      details: { reason: 'development-refused' },
    });
    const r = cli('install', dev, '--data-dir', dataDir, '--development');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^installed counter@0\.3\.0-dev \(sha256 [0-9a-f]{12}\) in .*, trust development$/m,
    );
  });

  it('install — a bad --require-trust or key file is a usage error before anything is installed', () => {
    const empty = join(tempDir('install-none'), 'data');
    const level = cli('install', counterCopy(), '--data-dir', empty, '--require-trust', 'maybe', '--json');
    expect(level.status).toBe(2);
    expect(level.json().error.message).toMatch(/development, unknown, trusted/);
    const missing = cli(
      'install',
      counterCopy(),
      '--data-dir',
      empty,
      '--trusted-key',
      join(empty, 'nope.pub'),
      '--json',
    );
    expect(missing.status).toBe(1);
    expect(missing.json().error.code).toBe('not-found');
    expect(existsSync(empty)).toBe(false);
  });
});
