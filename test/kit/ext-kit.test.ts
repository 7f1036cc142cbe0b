/**
 * The C kit's extension bindings (kit/c/airssys_ext.h), checked on what the build produces:
 * fixture ext-gateway imports the three ext interfaces through the composed WIT, and a component
 * that does not include the header imports none of them. The host side is tested elsewhere.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Component, Engine } from '../../src/wasm/index.js';
import { loadManifest } from '../../src/wasm/manifest/index.js';
import { fixture } from '../support/fixtures.js';

const EXT = {
  filesystem: 'airssys:ext-filesystem/filesystem@1.0.0',
  http: 'airssys:ext-network/http@1.0.0',
  process: 'airssys:ext-process/process@1.0.0',
};
const HOST_SERVICES = 'airssys:core/host-services@1.0.0';
const LIFECYCLE = 'airssys:core/component-lifecycle@1.0.0';

function readLeb(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

/** `module#name` of every import of the core modules a component embeds (top level). */
function coreImports(name: string): string[] {
  const bytes = new Uint8Array(readFileSync(join(fixture(name), 'component.wasm')));
  const found: string[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = readLeb(bytes, pos + 1);
    if (id === 1) {
      const mod = new WebAssembly.Module(bytes.subarray(start, start + size));
      for (const i of WebAssembly.Module.imports(mod)) found.push(`${i.module}#${i.name}`);
    }
    pos = start + size;
  }
  return found.sort();
}

const worldWit = (name: string) => readFileSync(join(fixture(name), 'world.wit'), 'utf8');

describe('C kit ext bindings — the built ext-gateway', () => {
  let gateway: Component;
  beforeAll(async () => {
    gateway = await new Engine().load(fixture('ext-gateway'));
  });

  it('imports the three ext interfaces and host-services, and exports component-lifecycle', () => {
    const wit = worldWit('ext-gateway');
    for (const iface of [...Object.values(EXT), HOST_SERVICES]) expect(wit).toContain(`import ${iface};`);
    expect(wit).toContain(`export ${LIFECYCLE};`);
  });

  it('imports every ext function it calls, and only reply from host-services', () => {
    const airssys = coreImports('ext-gateway').filter((i) => i.startsWith('airssys:'));
    expect(airssys).toEqual(
      [
        `${EXT.filesystem}#create-dir`,
        `${EXT.filesystem}#list-dir`,
        `${EXT.filesystem}#read-file`,
        `${EXT.filesystem}#remove-file`,
        `${EXT.filesystem}#stat`,
        `${EXT.filesystem}#write-file`,
        `${EXT.http}#request`,
        `${EXT.process}#spawn`,
        `${HOST_SERVICES}#reply`,
      ].sort(),
    );
  });

  it('loads on the engine with the ext functions typed as the WIT declares them', () => {
    const imports = Object.fromEntries(gateway.describe().imports.map((i) => [i.name, i.funcs ?? {}]));
    expect(Object.keys(imports[EXT.filesystem]).sort()).toEqual([
      'create-dir',
      'list-dir',
      'read-file',
      'remove-file',
      'stat',
      'write-file',
    ]);
    expect(Object.keys(imports[EXT.http])).toEqual(['request']);
    expect(Object.keys(imports[EXT.process])).toEqual(['spawn']);
    expect(Object.keys(imports[HOST_SERVICES])).toEqual(['reply']);
  });

  it('declares its fixture world (the daemon does not run it as an example) and grants nothing: tests write their own manifests', async () => {
    const manifest = await loadManifest(fixture('ext-gateway'));
    expect(manifest.component.name).toBe('ext-gateway');
    expect(manifest.component.world).toBe('airssys:fixtures/ext-gateway');
    const { filesystem, network, process } = manifest.permissions;
    expect([...filesystem.read, ...filesystem.write, ...network.outbound, ...process.spawn]).toEqual([]);
  });
});

describe('C kit ext bindings — components without airssys_ext.h', () => {
  it.each(['counter', 'requester', 'echo'])('%s imports no ext interface', (name) => {
    expect(worldWit(name)).not.toMatch(/airssys:ext-/);
    expect(coreImports(name).filter((i) => i.startsWith('airssys:ext-'))).toEqual([]);
  });
});
