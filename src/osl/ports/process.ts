/**
 * The process port: run one executable with an argument array and collect its output.
 *
 * No shell is ever involved: `args` reach the child as `argv` exactly as given, so `;`, `|`,
 * `$(…)` and `*` are plain characters. The child's environment is exactly `env` — nothing is
 * inherited from the host. A run that passes `timeoutMs` is killed (with its process group)
 * and fails with `timeout`; one whose stdout+stderr pass `maxOutputBytes` is killed and fails
 * with `capability-denied`.
 */

export interface SpawnRequest {
  /** Absolute real path of the executable (the guard has resolved it). */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin?: Uint8Array;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}

export interface SpawnResult {
  /** Exit code, or null when the child ended by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
}

export interface Process {
  /** The real path of an executable (symlinks resolved), or `not-found`. */
  realpath(path: string): Promise<string>;
  spawn(request: SpawnRequest): Promise<SpawnResult>;
}
