/**
 * The Process port contract. Fixtures provide programs that behave like coreutils' `echo`,
 * `env`, `sleep` (argument: seconds), `yes` and `false`.
 */

import { describe, expect, it } from 'vitest';
import type { Process, SpawnRequest } from '../../../src/osl/ports/process.js';

export interface ProcessFixture {
  proc: Process;
  echo: string;
  env: string;
  sleep: string;
  yes: string;
  fail: string;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function runProcessContract(name: string, { make }: { make: () => ProcessFixture }): void {
  describe(`${name} — Process contract`, () => {
    const req = (command: string, args: string[], extra: Partial<SpawnRequest> = {}): SpawnRequest => ({
      command,
      args,
      env: {},
      timeoutMs: 5000,
      maxOutputBytes: 1 << 20,
      ...extra,
    });

    it('passes arguments literally — no shell', async () => {
      const f = make();
      const args = ['a b', '$(id)', ';', 'rm', '-rf', '*', '`x`', '|', '>out'];
      const res = await f.proc.spawn(req(f.echo, args));
      expect(res.exitCode).toBe(0);
      expect(text(res.stdout)).toBe(`${args.join(' ')}\n`);
    });

    it('gives the child exactly the environment asked for', async () => {
      const f = make();
      expect(text((await f.proc.spawn(req(f.env, []))).stdout)).toBe('');
      expect(text((await f.proc.spawn(req(f.env, [], { env: { FOO: 'bar' } }))).stdout)).toBe('FOO=bar\n');
    });

    it('reports a non-zero exit code', async () => {
      const f = make();
      expect((await f.proc.spawn(req(f.fail, []))).exitCode).toBe(1);
    });

    it('kills a child that runs past its time', async () => {
      const f = make();
      const started = Date.now();
      await expect(f.proc.spawn(req(f.sleep, ['5'], { timeoutMs: 150 }))).rejects.toMatchObject({
        code: 'timeout',
      });
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('kills a child that writes past the output cap', async () => {
      const f = make();
      await expect(f.proc.spawn(req(f.yes, [], { maxOutputBytes: 10_000 }))).rejects.toMatchObject({
        code: 'capability-denied',
      });
    });

    it('resolves executables to their real path, and reports missing ones', async () => {
      const f = make();
      expect(await f.proc.realpath(f.echo)).toBe(f.echo);
      await expect(f.proc.realpath('/no/such/binary')).rejects.toMatchObject({ code: 'not-found' });
    });
  });
}
