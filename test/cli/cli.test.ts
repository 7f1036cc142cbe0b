// Drives the built command (dist/cli/main.js) the way a user does, checking output and exit codes.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const cacheDir = tempDir('cli');

function cli(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), ...args, '--cache-dir', cacheDir],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

describe('airssys-wasm run', () => {
  it('prints {ok, result, fuel, ms} and exits 0', () => {
    const r = cli('run', fixture('basic'), '--call', 'add', '--args', '[40, 2]', '--json');
    expect(r.status).toBe(0);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: true, result: 42 });
    expect(doc.fuel).toBeGreaterThan(0);
    expect(typeof doc.ms).toBe('number');
  });

  it('--max-memory raises the memory a manifest may declare (a JavaScript component needs 16MiB)', () => {
    const refused = cli('run', fixture('js'), '--call', 'add', '--args', '[40, 2]', '--json');
    expect(refused.status).toBe(1);
    expect(refused.json().error).toMatchObject({
      code: 'invalid-manifest',
      details: { field: 'resources.memory' },
    });
    const ok = cli(
      'run',
      fixture('js'),
      '--call',
      'add',
      '--args',
      '[40, 2]',
      '--json',
      '--max-memory',
      '64MiB',
    );
    expect(ok.status).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, result: 42 });
    expect(cli('run', fixture('js'), '--call', 'add', '--max-memory', 'lots', '--json').status).toBe(2);
  });

  it('reports the same fuel for the same call on every run', () => {
    const a = cli('run', fixture('hostile'), '--call', 'work', '--args', '[500]', '--json').json();
    const b = cli('run', fixture('hostile'), '--call', 'work', '--args', '[500]', '--json').json();
    expect(a.fuel).toBe(b.fuel);
  });

  it('prints 64-bit integers as numbers when safe and as decimal strings otherwise', () => {
    expect(
      cli('run', fixture('basic'), '--call', 'types.id-u64', '--args', '[7]', '--json').json().result,
    ).toBe(7);
    const big = cli(
      'run',
      fixture('basic'),
      '--call',
      'types.id-u64',
      '--args',
      '["18446744073709551615"]',
      '--json',
    );
    expect(big.json().result).toBe('18446744073709551615');
  });

  it('ends a runaway export as out-of-fuel, exits 1, and does not hang', () => {
    const r = cli('run', fixture('hostile'), '--call', 'spin', '--json');
    expect(r.status).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'out-of-fuel' } });
  });

  it('reports stack-overflow and trap with their codes', () => {
    expect(
      cli('run', fixture('hostile'), '--call', 'recurse', '--args', '[1]', '--json').json().error.code,
    ).toBe('stack-overflow');
    expect(cli('run', fixture('hostile'), '--call', 'boom', '--json').json().error.code).toBe('trap');
  });

  it('says not-found for an unknown export and invalid-argument for bad --args', () => {
    const missing = cli('run', fixture('basic'), '--call', 'nope', '--json');
    expect(missing.status).not.toBe(0);
    expect(missing.json().error.code).toBe('not-found');
    const bad = cli('run', fixture('basic'), '--call', 'add', '--args', '[1]', '--json');
    expect(bad.json().error.code).toBe('invalid-argument');
  });

  it('says whether the component came from the cache with --verbose', () => {
    cli('run', fixture('basic'), '--call', 'add', '--args', '[1,1]');
    const r = cli('run', fixture('basic'), '--call', 'add', '--args', '[1,1]', '--verbose');
    expect(r.stderr).toMatch(/cache: hit/);
    expect(r.stderr).toMatch(/loaded from cache/);
  });
});

describe('airssys-wasm validate and inspect', () => {
  it('validates a good component and refuses a bad manifest with invalid-manifest', () => {
    expect(cli('validate', fixture('basic')).status).toBe(0);
    const dir = tempDir('bad');
    writeFileSync(
      join(dir, 'Component.toml'),
      '[component]\nname = "x"\nversion = "1.0.0"\nwasm = "x.wasm"\n[resources]\nmemory = "8MiB"\n',
    );
    const bad = cli('validate', dir, '--json');
    expect(bad.status).toBe(1);
    expect(bad.json().error).toMatchObject({ code: 'invalid-manifest' });
    expect(bad.json().error.message).toMatch(/resources\.memory/);
  });

  it('shows imports, exports with WIT types, limits and the sha256', () => {
    const doc = cli('inspect', fixture('greeter'), '--json').json();
    expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.exports).toEqual([{ name: 'greet', type: 'func(name: string) -> string' }]);
    expect(doc.imports[0]).toMatchObject({ name: 'host', funcs: { log: 'func(msg: string)' } });
    expect(doc.limits.memoryBytes).toBe(1024 * 1024);
    const text = cli('inspect', fixture('basic')).stdout;
    expect(text).toMatch(/add: func\(a: u32, b: u32\) -> u32/);
  });

  it('prints --help for every command', () => {
    for (const command of ['run', 'validate', 'inspect', 'demo']) {
      const r = spawnSync(
        process.execPath,
        [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), command, '--help'],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: airssys-wasm/);
    }
  });
});

describe('airssys-wasm demo', () => {
  it('runs the examples through the engine and as actors, every step as expected', () => {
    const r = cli('demo', '--fixtures', join(ROOT, 'fixtures', 'build'), '--json');
    expect(r.status).toBe(0);
    const doc = r.json();
    expect(doc.ok).toBe(true);
    const actors = doc.rows.filter((row: { fuel: number; component: string }) => row.component === 'counter');
    expect(actors.map((row: { outcome: string }) => row.outcome)).toEqual(['3', 'trap', '3']);
  });
});
