// Installing from a packaged archive (.tar.gz of a component folder), and what a hostile archive
// cannot do.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'tar';
import { describe, expect, it } from 'vitest';
import { ComponentRegistry, installFromArchive } from '../../src/deploy/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

async function pack(files: string[], cwd: string, name = 'component.tar.gz'): Promise<string> {
  const file = join(tempDir('archive-out'), name);
  await create({ gzip: name.endsWith('gz'), file, cwd, portable: true }, files);
  return file;
}

describe('install from an archive', () => {
  it('installs a packed component folder (top level or one folder deep) and records the archive', async () => {
    const registry = ComponentRegistry.open(tempDir('archive'));
    const flat = await pack(['Component.toml', 'component.wasm'], fixture('counter'));
    const record = await installFromArchive(registry, flat);
    expect(record).toMatchObject({
      name: 'counter',
      version: '0.1.0',
      source: { kind: 'archive', location: flat },
    });
    expect(registry.binary(record)).toEqual(
      new Uint8Array(readFileSync(join(fixture('counter'), 'component.wasm'))),
    );
    const staging = tempDir('archive-nested');
    cpSync(fixture('counter-v2'), join(staging, 'counter-v2'), { recursive: true });
    const nested = await pack(['counter-v2'], staging, 'nested.tgz');
    expect(await installFromArchive(registry, nested)).toMatchObject({ version: '0.2.0' });
    registry.close();
  });

  it('refuses archives without a component, unreadable ones, and never follows links or ..', async () => {
    const registry = ComponentRegistry.open(tempDir('archive-bad'));
    const empty = tempDir('archive-empty');
    writeFileSync(join(empty, 'README'), 'nothing here');
    await expect(installFromArchive(registry, await pack(['README'], empty))).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('Component.toml'),
    });
    const garbage = join(tempDir('archive-garbage'), 'x.tar.gz');
    writeFileSync(garbage, 'not a tar at all');
    await expect(installFromArchive(registry, garbage)).rejects.toMatchObject({ code: 'invalid-argument' });
    // A link named component.wasm pointing outside is not extracted: the binary is missing.
    const linked = tempDir('archive-link');
    cpSync(join(fixture('counter'), 'Component.toml'), join(linked, 'Component.toml'));
    symlinkSync('/etc/passwd', join(linked, 'component.wasm'));
    mkdirSync(join(linked, 'sub'));
    await expect(
      installFromArchive(registry, await pack(['Component.toml', 'component.wasm'], linked)),
    ).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('component.wasm'),
    });
    expect(registry.list()).toEqual([]);
    await expect(installFromArchive(registry, '/nonexistent.tgz')).rejects.toMatchObject({
      code: 'not-found',
    });
    registry.close();
  });
});
