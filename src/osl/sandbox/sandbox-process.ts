/** The guest's process API: an executable, an argument array, and nothing else by default. */

import type { SpawnResult } from '../ports/process.js';
import type { Run } from './sandbox.js';

export interface SpawnOptions {
  /** Variables for the child; each name must be granted (`process.env`). Nothing is inherited. */
  env?: Record<string, string>;
  stdin?: Uint8Array | string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** stdout + stderr; default 1 MiB. */
  maxOutputBytes?: number;
}

/**
 * @example
 * const { stdout } = await sandbox.process.spawn('/usr/bin/convert', ['in.png', 'out.jpg']);
 */
export class SandboxProcess {
  constructor(private readonly run: Run) {}

  spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): Promise<SpawnResult> {
    return this.run(
      {
        kind: 'process.spawn',
        command,
        args,
        env: { ...options.env },
        stdin: typeof options.stdin === 'string' ? new TextEncoder().encode(options.stdin) : options.stdin,
        timeoutMs: options.timeoutMs ?? 10_000,
        maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
      },
      command,
    );
  }
}
