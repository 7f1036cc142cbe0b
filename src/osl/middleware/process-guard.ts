/**
 * The process guard: only granted executables, compared by real path, with argument arrays and
 * an environment the grants allow.
 *
 * THREAT MODEL: "may run /usr/bin/convert" must not become "may run anything": not through a
 * symlink the guest points at another binary, not through `..` or a relative name looked up on
 * `PATH`, not through a shell (no `shell: true` exists anywhere in osl), and not through the
 * environment — `LD_PRELOAD`, `NODE_OPTIONS`, `PATH` or `BASH_ENV` change what a granted binary
 * executes, so a child gets only variables the grants name (`process.env`), never the host's.
 * Existence of ungranted paths is not revealed: an ungranted command is `capability-denied`
 * whether or not it exists. Granting an executable grants whatever it can do with the host's
 * OS privileges — this guard does not sandbox the child.
 */

import { denied, malformed } from '../deny.js';
import type { Capabilities } from '../policy/grants.js';
import type { Process } from '../ports/process.js';
import type { Middleware } from './compose.js';

const MAX_ARGS = 4096;
const MAX_ARG_BYTES = 1024 * 1024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * @example
 * const guard = processGuard(compileCapabilities({ process: { spawn: ['/usr/bin/convert'] } }), new NodeProcess());
 */
export function processGuard(caps: Capabilities, proc: Process): Middleware {
  // Real paths of the grants, resolved once (a grant naming a missing file grants nothing).
  let granted: Promise<Map<string, string>> | undefined;
  const grantedReal = () => {
    granted ??= Promise.all(
      caps.spawn.map(async (p) => [p, await proc.realpath(p).catch(() => '')] as const),
    ).then((pairs) => new Map(pairs.filter(([, real]) => real !== '')));
    return granted;
  };

  return async (ctx, next) => {
    const op = ctx.op;
    if (op.kind !== 'process.spawn') return next();
    const { command, args, env } = op;
    if (typeof command !== 'string' || command.includes('\0') || !command.startsWith('/')) {
      throw malformed('command must be an absolute path without NUL bytes');
    }
    if (!Array.isArray(args) || args.length > MAX_ARGS || !args.every((a) => typeof a === 'string')) {
      throw malformed(`args must be an array of at most ${MAX_ARGS} strings`);
    }
    let total = 0;
    for (const a of args as string[]) {
      if (a.includes('\0')) throw malformed('an argument contains a NUL byte');
      total += Buffer.byteLength(a);
    }
    if (total > MAX_ARG_BYTES) throw malformed(`arguments exceed ${MAX_ARG_BYTES} bytes`);
    for (const [name, value] of Object.entries(env)) {
      if (!ENV_NAME.test(name) || typeof value !== 'string' || value.includes('\0')) {
        throw malformed(`environment variable ${JSON.stringify(name)} is malformed`);
      }
      if (!caps.env.has(name)) throw denied(`environment variable ${name} is not granted`, { name });
    }
    ctx.subject = [command, ...(args as string[])].join(' ');

    const grants = await grantedReal();
    let real = grants.get(command);
    if (real === undefined) {
      const candidate = await proc.realpath(command).catch(() => undefined);
      if (candidate !== undefined && [...grants.values()].includes(candidate)) real = candidate;
      else if (caps.mode === 'development' && candidate !== undefined) {
        real = candidate;
        ctx.note = `development mode: executable ${command} is not granted`;
      } else throw denied(`executable ${command} is not granted`, { command });
    }
    ctx.command = real;
    await next();
  };
}
