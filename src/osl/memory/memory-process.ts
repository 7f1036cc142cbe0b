/**
 * An in-memory process port for tests: "executables" are functions registered by path. They
 * see exactly the argv and environment a real child would, and the same time and output
 * limits apply.
 */

import { AirssysError } from '../../shared/errors.js';
import { denied } from '../deny.js';
import type { Process, SpawnRequest, SpawnResult } from '../ports/process.js';

export interface FakeRun {
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  stdin: Uint8Array;
}

export interface FakeOutcome {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Simulated run time; past the request's timeout the run fails with `timeout`. */
  durationMs?: number;
}

export type FakeProgram = (run: FakeRun) => FakeOutcome;

/**
 * @example
 * const proc = new MemoryProcess();
 * proc.install('/bin/echo', ({ args }) => ({ stdout: `${args.join(' ')}\n` }));
 */
export class MemoryProcess implements Process {
  private readonly programs = new Map<string, FakeProgram>();
  private readonly links = new Map<string, string>();

  install(path: string, program: FakeProgram): void {
    this.programs.set(path, program);
  }

  /** Makes `path` a symlink to `target` for `realpath`. */
  link(path: string, target: string): void {
    this.links.set(path, target);
  }

  async realpath(path: string): Promise<string> {
    let real = path;
    for (let i = 0; i < 40 && this.links.has(real); i++) real = this.links.get(real)!;
    if (!this.programs.has(real))
      throw new AirssysError('not-found', `executable ${path} does not exist`, { blame: 'guest' });
    return real;
  }

  async spawn(request: SpawnRequest): Promise<SpawnResult> {
    const program = this.programs.get(request.command);
    if (!program)
      throw new AirssysError('not-found', `executable ${request.command} does not exist`, { blame: 'guest' });
    const outcome = program({
      args: [...request.args],
      env: { ...request.env },
      stdin: request.stdin ?? new Uint8Array(),
    });
    const duration = outcome.durationMs ?? 0;
    if (duration > request.timeoutMs) {
      await new Promise((r) => setTimeout(r, request.timeoutMs));
      throw new AirssysError('timeout', `${request.command} ran longer than ${request.timeoutMs} ms`, {
        blame: 'guest',
      });
    }
    const stdout = new TextEncoder().encode(outcome.stdout ?? '');
    const stderr = new TextEncoder().encode(outcome.stderr ?? '');
    if (stdout.length + stderr.length > request.maxOutputBytes) {
      throw denied(`${request.command} wrote more than ${request.maxOutputBytes} bytes of output`, {
        limit: request.maxOutputBytes,
        quota: 'output',
      });
    }
    if (duration > 0) await new Promise((r) => setTimeout(r, duration));
    return { exitCode: outcome.exitCode ?? 0, signal: null, stdout, stderr };
  }
}
