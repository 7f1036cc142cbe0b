/**
 * The path guard: every filesystem operation's path is checked lexically against the grants,
 * resolved beneath its grant root, and the *real* path checked again before the port is called.
 *
 * THREAT MODEL: see policy/path-check.ts for hostile path text (NUL, bad encodings, `..`
 * escapes, deny-before-allow, `/proc` and `/dev`) and ports/resolve-beneath.ts for symlinks.
 * This step joins them: a path that reads fine (`/data/in/report`) but is a symlink to a denied
 * or ungranted place (`/data/in/secret/key`, `/data/out/x` for a read-only grant) is refused on
 * its real path. Symlinks swapped *after* this step are the port's job: it repeats the
 * containment test at the syscall. Writes include everything that changes the disk: create,
 * truncate, append, mkdir, unlink and both ends of a rename.
 */

import type { OperationContext } from '../operation.js';
import type { Capabilities } from '../policy/grants.js';
import { type Access, checkPath } from '../policy/path-check.js';
import type { FileSystem, Location, OpenMode } from '../ports/file-system.js';
import type { Middleware } from './compose.js';

/**
 * @example
 * const guard = pathGuard(compileCapabilities({ filesystem: { read: ['/data/in/**'] } }), new NodeFileSystem());
 */
export function pathGuard(caps: Capabilities, fs: FileSystem): Middleware {
  return async (ctx, next) => {
    const op = ctx.op;
    switch (op.kind) {
      case 'fs.open':
        ctx.location = await guard(caps, fs, accessOf(op.mode), op.path, ctx);
        break;
      case 'fs.read-file':
      case 'fs.stat':
      case 'fs.readdir':
        ctx.location = await guard(caps, fs, 'read', op.path, ctx);
        break;
      case 'fs.write-file':
      case 'fs.mkdir':
      case 'fs.unlink':
        ctx.location = await guard(caps, fs, 'write', op.path, ctx);
        break;
      case 'fs.rename': {
        ctx.location = await guard(caps, fs, 'write', op.from, ctx);
        const from = ctx.subject;
        ctx.target = await guard(caps, fs, 'write', op.to, ctx);
        ctx.subject = `${from} -> ${ctx.subject}`;
        break;
      }
      default:
        break;
    }
    await next();
  };
}

/** Any flag that can change the file is a write, whatever `write` says. */
export function accessOf(mode: OpenMode): Access {
  const writes =
    mode.write === true || mode.append === true || mode.create === true || mode.truncate === true;
  const reads = mode.read ?? !writes;
  return writes ? (reads ? 'read-write' : 'write') : 'read';
}

async function guard(
  caps: Capabilities,
  fs: FileSystem,
  access: Access,
  input: unknown,
  ctx: OperationContext,
): Promise<Location> {
  const grant = checkPath(caps, access, input);
  ctx.subject = grant.path;
  const real = await fs.resolve({ root: grant.root, path: grant.path });
  let wouldDeny = grant.wouldDeny;
  if (real !== grant.path) {
    ctx.subject = `${grant.path} (real ${real})`;
    wouldDeny ??= checkPath(caps, access, real).wouldDeny;
  }
  if (wouldDeny !== undefined) ctx.note = `development mode: ${wouldDeny}`;
  return { root: grant.root, path: real };
}
