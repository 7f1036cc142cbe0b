// `airssys-wasm host` as a user runs it: the bundled CLI with scheduler threads (the bundled
// worker beside it), the example components, the dashboard, and a clean stop on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

describe('airssys-wasm host', () => {
  it('starts the daemon with the examples on 2 threads, serves API and dashboard, stops on SIGTERM', async () => {
    const dataDir = tempDir('host-cli');
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist', 'cli', 'airssys-wasm.js'),
        'host',
        '--data-dir',
        dataDir,
        '--port',
        '0',
        '--threads',
        '2',
        '--examples',
        join(ROOT, 'fixtures', 'build'),
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', () => reject(new Error(`host exited early: ${stderr}`)));
      });
      const started = JSON.parse(first);
      expect(started).toMatchObject({ ok: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      expect(started.dashboard).toBe(`${started.url}/#token=${token}`);
      const auth = { authorization: `Bearer ${token}` };
      const page = await fetch(`${started.url}/`);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toMatch(/<html/i);
      const reply = await fetch(`${started.url}/v1/addresses/counter/request`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ payload: 'inc' }),
      });
      expect(await reply.json()).toMatchObject({ ok: true, text: '1' });
      const status = await (await fetch(`${started.url}/v1/status`, { headers: auth })).json();
      expect(status.host).toMatchObject({ threads: 2 });

      // The CLI reaches the same host through the admin API.
      const cli = (...args: string[]) =>
        spawnSync(
          process.execPath,
          [join(ROOT, 'dist', 'cli', 'airssys-wasm.js'), ...args, '--data-dir', dataDir],
          {
            encoding: 'utf8',
            timeout: 30_000,
          },
        );
      expect(cli('call', 'counter', 'get').stdout.trim()).toBe('1');
      const deploy = cli('deploy', 'counter', '0.2.0');
      expect(deploy.status, deploy.stderr).toBe(0);
      expect(deploy.stdout).toMatch(/done/);
      // Progress on stderr while the host deploys: the steps and the new version's lifecycle.
      expect(deploy.stderr).toMatch(/counter@0\.2\.0: installed → starting/);
      expect(deploy.stderr).toMatch(/counter@0\.2\.0: starting → running/);
      expect(cli('call', 'counter', 'get').stdout.trim()).toBe('v2:1');
      expect(cli('rollback', 'counter').status).toBe(0);
      expect(cli('call', 'counter', 'get').stdout.trim()).toBe('1');
      const failed = cli('call', 'counter', 'boom', '--json');
      expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, error: { code: 'trap' } });
      expect(cli('logs', '--limit', '5').status).toBe(0);
      expect(cli('stop', 'echo').stdout).toMatch(/stopped echo/);
      expect(JSON.parse(cli('call', 'echo', 'x', '--json').stdout)).toMatchObject({
        ok: false,
        error: { code: 'not-found' },
      });
      expect(cli('start', 'echo').status).toBe(0);
      expect(cli('call', 'echo', 'back').stdout.trim()).toBe('back');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
