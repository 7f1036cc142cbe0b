/**
 * `wasi:cli/*`: the parts of a process a component may see, none of them the host's own unless
 * the embedder passes them. stdin, stdout and stderr are the streams `index.ts` built from the
 * options (closed stdin and discarded output by default); the environment, arguments and
 * working directory are exactly what the embedder passed (none by default; `process.env` is
 * never read); a stream is a terminal only when the embedder says so (`terminals`), which is
 * what makes a libc's `isatty` true. `exit` ends the call with a `WasiExit` error: the guest
 * gave up control, and the instance is discarded like after a trap.
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

/** The host objects behind `terminal-input` / `terminal-output`: nothing to do with them in 0.2. */
export class TerminalInput {}
export class TerminalOutput {}

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
  const { terminals } = ctx;
  return {
    'wasi:cli/stdin': { 'get-stdin': () => stdio.stdin },
    'wasi:cli/stdout': { 'get-stdout': () => stdio.stdout },
    'wasi:cli/stderr': { 'get-stderr': () => stdio.stderr },
    'wasi:cli/environment': {
      'get-environment': () => ctx.env,
      'get-arguments': () => ctx.args,
      'initial-cwd': () => ctx.initialCwd,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => exit(status.tag === 'ok' ? 0 : 1),
      'exit-with-code': (code: number) => exit(code),
    },
    // The resource-only interfaces carry no functions; listed so that embedders see them granted.
    'wasi:cli/terminal-input': {},
    'wasi:cli/terminal-output': {},
    'wasi:cli/terminal-stdin': { 'get-terminal-stdin': terminals.stdin ? () => new TerminalInput() : none },
    'wasi:cli/terminal-stdout': {
      'get-terminal-stdout': terminals.stdout ? () => new TerminalOutput() : none,
    },
    'wasi:cli/terminal-stderr': {
      'get-terminal-stderr': terminals.stderr ? () => new TerminalOutput() : none,
    },
  };
}
