// What a binary is (actor, HTTP handler, command), and the declared world checked against it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/wasm/engine/engine.js';
import { checkWorld, componentKind } from '../../src/wasm/engine/world.js';
import { parseManifest } from '../../src/wasm/manifest/index.js';
import { ROOT } from '../support/fixtures.js';

const engine = new Engine({ policy: { maxMemoryBytes: 64 * 1024 * 1024 } });

/** A fixture compiled under its own manifest, its `world` line replaced by `world` (none: removed). */
function compile(fixture: string, world?: string) {
  const dir = join(ROOT, 'fixtures', 'build', fixture);
  const text = readFileSync(join(dir, 'Component.toml'), 'utf8')
    .replace(/^world = .*\n/m, '')
    .replace(
      /^\[component\]\n/m,
      world === undefined ? '[component]\n' : `[component]\nworld = "${world}"\n`,
    );
  const manifest = parseManifest(text, { baseDir: dir, policy: engine.policy });
  return engine.compile(readFileSync(join(dir, 'component.wasm')), manifest);
}

describe('componentKind', () => {
  it('tells an actor, a command and an HTTP handler apart by their exports', () => {
    expect(componentKind(compile('counter'))).toBe('actor');
    expect(componentKind(compile('c-wc'))).toBe('command');
    expect(componentKind(compile('js-http-hello'))).toBe('http');
  });
});

describe('checkWorld', () => {
  it('accepts a matching world, any 0.2.x, or none', () => {
    expect(checkWorld(compile('c-wc', 'wasi:cli/command@0.2.3'))).toBe('command');
    expect(checkWorld(compile('c-wc', 'wasi:cli/command'))).toBe('command');
    expect(checkWorld(compile('c-wc'))).toBe('command');
    expect(checkWorld(compile('js-http-hello', 'wasi:http/proxy@0.2.10'))).toBe('http');
  });

  it("does not judge a world of another namespace (an embedder's own)", () => {
    expect(checkWorld(compile('c-wc', 'acme:plugins/filter@1.0.0'))).toBe('command');
  });

  it('refuses a mismatch naming the declared world and what the binary is', () => {
    expect(() => checkWorld(compile('js-http-hello', 'wasi:cli/command@0.2.0'))).toThrow(
      /declares "wasi:cli\/command@0\.2\.0", but the binary does not export wasi:cli\/run@0\.2\.x#run: it is a wasi:http\/proxy component/,
    );
    expect(() => checkWorld(compile('c-wc', 'airssys:core/component@1.0.0'))).toThrow(
      /does not export airssys:core\/component-lifecycle@1\.0\.0 .*set world = "wasi:cli\/command"/,
    );
  });

  it('refuses versions and worlds the host does not run', () => {
    expect(() => checkWorld(compile('c-wc', 'wasi:cli/command@1.0.0'))).toThrow(/it runs 0\.2\.x/);
    expect(() => checkWorld(compile('c-wc', 'airssys:core/componnent@1.0.0'))).toThrow(/knows no world/);
  });
});
