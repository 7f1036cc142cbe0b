import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/wasm/engine/engine.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

function engineWithLog(dir: string) {
  const lines: string[] = [];
  return { engine: new Engine({ cacheDir: dir, log: (line) => lines.push(line) }), lines };
}

describe('compiled-component cache', () => {
  it('compiles once, then loads from the cache and says so', async () => {
    const dir = tempDir('cache');
    const first = engineWithLog(dir);
    const a = await first.engine.load(fixture('basic'));
    expect(a.compiled.fromCache).toBe(false);
    expect(first.lines.join('\n')).toMatch(/cache: miss/);
    const second = engineWithLog(dir);
    const b = await second.engine.load(fixture('basic'));
    expect(b.compiled.fromCache).toBe(true);
    expect(second.lines.join('\n')).toMatch(/cache: hit/);
    expect(b.instantiate().exports.add(1, 2)).toBe(3);
  });

  it('keys entries by memory clamp: another manifest limit is another entry', async () => {
    const dir = tempDir('cache');
    const { engine } = engineWithLog(dir);
    const basic = await engine.load(fixture('basic'));
    const bytes = (await import('node:fs')).readFileSync(join(fixture('basic'), 'component.wasm'));
    const bigger = {
      ...basic.manifest,
      resources: { ...basic.manifest.resources, memoryBytes: 2 * 1024 * 1024 },
    };
    expect(engine.compile(bytes, bigger).compiled.fromCache).toBe(false);
    expect(readdirSync(dir).filter((f) => !f.startsWith('.'))).toHaveLength(2);
  });

  it('discards an entry whose files do not match their recorded hashes, and rebuilds it', async () => {
    const dir = tempDir('cache');
    await engineWithLog(dir).engine.load(fixture('basic'));
    const [entry] = readdirSync(dir);
    const modules = readdirSync(join(dir, entry)).filter((f) => f.endsWith('.wasm'));
    // A valid module with different bytes: would compile fine, must still be refused.
    writeFileSync(join(dir, entry, modules[0]), Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    const again = engineWithLog(dir);
    const component = await again.engine.load(fixture('basic'));
    expect(again.lines.join('\n')).toMatch(/discarded corrupt entry/);
    expect(component.compiled.fromCache).toBe(false);
    expect(component.instantiate().exports.add(2, 2)).toBe(4);
  });
});
