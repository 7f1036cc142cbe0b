/**
 * `wasi:cli/*`: the parts of a process a component may see, none of them the host's own.
 * stdout and stderr are line sinks chosen by the embedder, stdin is closed, the environment and
 * arguments are exactly what the embedder passed (empty by default; `process.env` is never
 * read), there is no working directory and no terminal. `exit` ends the call with a `WasiExit`
 * error: the guest gave up control, and the instance is discarded like after a trap.
 */

import { AirssysError } from '../../shared/errors.js';
import type { WasiContext } from './options.js';
import type { InputStream, OutputStream } from './streams.js';
import type { Interface } from './values.js';

/**
 * Thrown out of the export call when the component calls `wasi:cli/exit`. `status` is 0 for
 * `exit(ok)`, 1 for `exit(err)` and the code for `exit-with-code`.
 *
 * @example
 * try { instance.exports.run(); } catch (e) { if (e instanceof WasiExit) console.log(e.status); }
 */
export class WasiExit extends AirssysError {
  readonly status: number;

  constructor(status: number) {
    super('trap', `the component called exit with status ${status}; the instance is discarded`, {
      blame: 'guest',
      details: { exitStatus: status },
    });
    this.status = status;
  }
}

export interface StdioStreams {
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
}

export function cliInterfaces(ctx: WasiContext, stdio: StdioStreams): Record<string, Interface> {
  const exit = (status: number): never => {
    ctx.onExit?.(status);
    throw new WasiExit(status);
  };
  const none = () => undefined;
  return {
    'wasi:cli/stdin': { 'get-stdin': () => stdio.stdin },
    'wasi:cli/stdout': { 'get-stdout': () => stdio.stdout },
    'wasi:cli/stderr': { 'get-stderr': () => stdio.stderr },
    'wasi:cli/environment': {
      'get-environment': () => ctx.env,
      'get-arguments': () => ctx.args,
      'initial-cwd': none,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => exit(status.tag === 'ok' ? 0 : 1),
      'exit-with-code': (code: number) => exit(code),
    },
    // The resource-only interfaces carry no functions; listed so that embedders see them granted.
    'wasi:cli/terminal-input': {},
    'wasi:cli/terminal-output': {},
    'wasi:cli/terminal-stdin': { 'get-terminal-stdin': none },
    'wasi:cli/terminal-stdout': { 'get-terminal-stdout': none },
    'wasi:cli/terminal-stderr': { 'get-terminal-stderr': none },
  };
}
