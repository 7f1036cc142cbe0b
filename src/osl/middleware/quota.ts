/**
 * The quota guard: per-component counters for open files, sockets and bytes moved, refused
 * with a `capability-denied` that names the quota, its limit and the current use.
 *
 * THREAT MODEL: a guest with a legitimate grant can still exhaust the host: open every file
 * descriptor the process has, hold thousands of sockets, fill the disk or read a huge file into
 * host memory. Limits are checked *before* the port is called (a read is bounded by what is
 * left of the budget, not measured afterwards) and released when a handle or connection
 * closes, however it closes.
 */

import { denied } from '../deny.js';
import type { QuotaLimits } from '../policy/host-policy.js';
import type { FileHandle } from '../ports/file-system.js';
import type { TcpConnection } from '../ports/network.js';
import type { Middleware } from './compose.js';

/** Live use of one component's quota. */
export class QuotaCounters {
  openFiles = 0;
  sockets = 0;
  bytesRead = 0;
  bytesWritten = 0;
}

/**
 * @example
 * const counters = new QuotaCounters();
 * const quota = quotaGuard({ ...DEFAULT_QUOTA, openFiles: 8 }, counters);
 */
export function quotaGuard(limits: Required<QuotaLimits>, counters: QuotaCounters): Middleware {
  const refuse = (quota: keyof QuotaLimits, used: number) =>
    denied(`quota ${quota} exhausted: ${used} of ${limits[quota]} used`, {
      quota,
      limit: limits[quota],
      used,
    });

  return async (ctx, next) => {
    const op = ctx.op;
    switch (op.kind) {
      case 'fs.open': {
        if (counters.openFiles >= limits.openFiles) throw refuse('openFiles', counters.openFiles);
        await next();
        counters.openFiles++;
        ctx.result = releasing(ctx.result as FileHandle, () => counters.openFiles--);
        return;
      }
      case 'fs.read-file': {
        const left = limits.bytesRead - counters.bytesRead;
        if (left <= 0) throw refuse('bytesRead', counters.bytesRead);
        if (op.maxBytes > left) op.maxBytes = left;
        await next();
        counters.bytesRead += (ctx.result as Uint8Array).length;
        return;
      }
      case 'fs.read': {
        if (counters.bytesRead + op.length > limits.bytesRead) throw refuse('bytesRead', counters.bytesRead);
        await next();
        counters.bytesRead += (ctx.result as Uint8Array).length;
        return;
      }
      case 'fs.write':
      case 'fs.write-file': {
        if (counters.bytesWritten + op.data.length > limits.bytesWritten) {
          throw refuse('bytesWritten', counters.bytesWritten);
        }
        await next();
        counters.bytesWritten += op.data.length;
        return;
      }
      case 'net.fetch': {
        if (counters.sockets >= limits.sockets) throw refuse('sockets', counters.sockets);
        counters.sockets++;
        try {
          await next();
        } finally {
          counters.sockets--;
        }
        return;
      }
      case 'net.connect': {
        if (counters.sockets >= limits.sockets) throw refuse('sockets', counters.sockets);
        counters.sockets++;
        try {
          await next();
        } catch (error) {
          counters.sockets--;
          throw error;
        }
        let released = false;
        (ctx.result as TcpConnection).onClose(() => {
          if (!released) {
            released = true;
            counters.sockets--;
          }
        });
        return;
      }
      default:
        await next();
    }
  };
}

function releasing(handle: FileHandle, release: () => void): FileHandle {
  let released = false;
  return {
    read: (length, position) => handle.read(length, position),
    write: (data, position) => handle.write(data, position),
    stat: () => handle.stat(),
    close: async () => {
      if (!released) {
        released = true;
        release();
      }
      await handle.close();
    },
  };
}
