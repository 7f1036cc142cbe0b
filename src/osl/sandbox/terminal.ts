/**
 * The last step of the chain: calls the port with what the guards decided. It fails closed —
 * an operation whose guard did not run (a chain built without it) is refused as a host bug,
 * never passed through with the guest's raw input.
 */

import { AirssysError } from '../../shared/errors.js';
import type { Terminal } from '../middleware/compose.js';
import type { OperationContext } from '../operation.js';
import type { FileSystem, Location } from '../ports/file-system.js';
import type { Network } from '../ports/network.js';
import type { Process } from '../ports/process.js';

export interface Ports {
  fs: FileSystem;
  net: Network;
  process: Process;
}

function decided<T>(value: T | undefined, what: string, ctx: OperationContext): T {
  if (value === undefined) {
    throw new AirssysError('internal', `${ctx.op.kind}: no guard decided the ${what}; refusing`);
  }
  return value;
}

export function terminal(ports: Ports): Terminal {
  return async (ctx) => {
    const op = ctx.op;
    const at = (): Location => decided(ctx.location, 'location', ctx);
    switch (op.kind) {
      case 'fs.open':
        ctx.result = await ports.fs.open(at(), op.mode);
        return;
      case 'fs.read-file':
        ctx.result = await ports.fs.readFile(at(), op.maxBytes);
        return;
      case 'fs.write-file':
        ctx.result = await ports.fs.writeFile(at(), op.data, { append: op.append });
        return;
      case 'fs.stat':
        ctx.result = await ports.fs.stat(at());
        return;
      case 'fs.readdir':
        ctx.result = await ports.fs.readdir(at());
        return;
      case 'fs.mkdir':
        ctx.result = await ports.fs.mkdir(at());
        return;
      case 'fs.unlink':
        ctx.result = await ports.fs.unlink(at());
        return;
      case 'fs.rename':
        ctx.result = await ports.fs.rename(at(), decided(ctx.target, 'target', ctx));
        return;
      case 'fs.read':
        ctx.result = await op.handle.read(op.length, op.position);
        return;
      case 'fs.write':
        ctx.result = await op.handle.write(op.data, op.position);
        return;
      case 'net.fetch':
        ctx.result = await ports.net.exchange(
          { url: decided(ctx.url, 'URL', ctx), method: op.method, headers: op.headers, body: op.body },
          {
            lookup: decided(ctx.lookup, 'lookup', ctx),
            maxResponseBytes: op.maxResponseBytes,
            timeoutMs: op.timeoutMs,
            connectTimeoutMs: op.connectTimeoutMs,
            firstByteTimeoutMs: op.firstByteTimeoutMs,
          },
        );
        return;
      case 'net.connect':
        ctx.result = await ports.net.connect(decided(ctx.host, 'host', ctx), op.port as number, {
          lookup: decided(ctx.lookup, 'lookup', ctx),
          timeoutMs: op.timeoutMs,
        });
        return;
      case 'net.datagram':
      case 'net.lookup':
        ctx.result = await decided(ctx.lookup, 'lookup', ctx)(decided(ctx.host, 'host', ctx));
        return;
      case 'net.listen': {
        if (ports.net.listen === undefined) {
          throw new AirssysError('internal', 'this network port cannot listen', { blame: 'host' });
        }
        ctx.result = await ports.net.listen(decided(ctx.host, 'host', ctx), op.port as number, {
          backlog: op.backlog,
        });
        return;
      }
      case 'process.spawn':
        ctx.result = await ports.process.spawn({
          command: decided(ctx.command, 'command', ctx),
          args: op.args as string[],
          env: op.env,
          stdin: op.stdin,
          timeoutMs: op.timeoutMs,
          maxOutputBytes: op.maxOutputBytes,
        });
        return;
    }
  };
}
