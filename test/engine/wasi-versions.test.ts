import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/wasm/engine/engine.js';
import { compatibleKey } from '../../src/wasm/engine/link.js';
import { wasiImports } from '../../src/wasm/wasi/index.js';
import { buildComponent } from '../support/build-component.js';
import { manifestWith } from '../support/manifest.js';

/** A component whose `roll` export returns `wasi:random/random@<version>#get-random-u64`. */
async function roller(version: string) {
  const wit = `package test:versions;
package wasi:random@${version} {
  interface random { get-random-u64: func() -> u64; }
}
world roller {
  import wasi:random/random@${version};
  export roll: func() -> u64;
}`;
  const wat = `(module
  (import "wasi:random/random@${version}" "get-random-u64" (func $r (result i64)))
  (func (export "roll") (result i64) call $r))`;
  return new Engine().compile(await buildComponent(wat, wit, 'roller'), manifestWith('roller'));
}

const seven = () => (buffer: Uint8Array) => buffer.fill(0).set([7]);

describe('WASI versions — every 0.2.x, nothing else', () => {
  it('keys semver-compatible releases together: 0.2.x as 0.2, 1.x.y as 1', () => {
    expect(compatibleKey('wasi:io/streams@0.2.0')).toBe('wasi:io/streams@0.2');
    expect(compatibleKey('wasi:io/streams@0.2.12')).toBe('wasi:io/streams@0.2');
    expect(compatibleKey('wasi:io/streams@0.2.0-rc-2023-11-10')).toBe('wasi:io/streams@0.2');
    expect(compatibleKey('wasi:io/streams@0.3.0')).toBe('wasi:io/streams@0.3');
    expect(compatibleKey('airssys:ext-filesystem/filesystem@1.4.2')).toBe(
      'airssys:ext-filesystem/filesystem@1',
    );
    // 0.0.x releases are each their own line; unversioned names have no compatible key.
    expect(compatibleKey('x:y/z@0.0.3')).toBeUndefined();
    expect(compatibleKey('wasi:io/streams')).toBeUndefined();
  });

  it('links an import of any 0.2 release to the WASI functions', async () => {
    for (const version of ['0.2.0', '0.2.3', '0.2.12', '0.2.99']) {
      const instance = (await roller(version)).instantiate(wasiImports({ random: seven() }));
      expect(instance.exports.roll()).toBe(7n);
    }
  });

  it('refuses a 0.3 import of a function 0.2 also has, instead of serving it with 0.2', async () => {
    const component = await roller('0.3.0');
    expect(() => component.instantiate(wasiImports())).toThrow(
      expect.objectContaining({
        code: 'capability-denied',
        message: expect.stringMatching(
          /wasi:random\/random@0\.3\.0.*WASI 0\.3 is not supported yet: build the component for WASI 0\.2/,
        ),
      }),
    );
  });

  it('still lets an embedder serve every version with an unversioned key', async () => {
    const component = await roller('0.3.0');
    const instance = component.instantiate({ 'wasi:random/random': { 'get-random-u64': () => 3n } });
    expect(instance.exports.roll()).toBe(3n);
  });
});
