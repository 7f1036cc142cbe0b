/**
 * The thread side of `HttpWorkerPool`: one `IncomingHandler` over a component compiled on the
 * main thread (its core modules are cloned, not recompiled), answering one request at a time.
 * The response goes back as messages (head, body chunks, end) while the guest writes it, then
 * the outcome. The main thread can cancel a response (client gone, too much unread) through a
 * shared flag the guest's next write sees, since a running guest reads no messages. The guest's
 * output lines, refusals and egress audit records go to the process's stdio, or back as
 * messages where the pool has callbacks for them.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { toAirssysError } from '../../../shared/errors.js';
import { Component } from '../../engine/engine.js';
import { fdSink } from '../fd-io.js';
import { threadWasi } from '../thread-callbacks.js';
import { IncomingHandler } from './incoming-handler.js';
import type { HttpWorkerData, ToMain, ToWorker } from './worker-protocol.js';

const data = workerData as HttpWorkerData;
const port = parentPort!;
const cancelled = new Int32Array(data.cancel);

function send(message: ToMain, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

let handler: IncomingHandler;
try {
  handler = new IncomingHandler(new Component(data.manifest, data.compiled), {
    reuseInstance: data.reuseInstance,
    poolSize: data.poolSize,
    wasi: {
      env: data.env,
      ...(data.processStdio && {
        stdoutBytes: fdSink(1),
        stderrBytes: fdSink(2),
        onDenied: (operation, subject, reason) =>
          process.stderr.write(`denied ${operation} ${subject}: ${reason}\n`),
      }),
      // The pool's callbacks instead, where it has them: one message per line, refusal or record.
      ...threadWasi(data.callbacks, (event) => send({ kind: 'callback', event })),
    },
  });
  handler.prepare();
  send({ kind: 'ready' });
} catch (error) {
  send({ kind: 'failed', error: toAirssysError(error).toJSON() });
  process.exit(1);
}

port.on('message', (message: ToWorker) => {
  const { id, request } = message;
  const outcome = handler.handle(request, {
    start: (status, headers) => send({ kind: 'start', id, status, headers }),
    write(bytes) {
      if (Atomics.load(cancelled, 0) === id) {
        throw new Error('the client closed the connection or stopped reading the response');
      }
      const copy = new Uint8Array(bytes);
      send({ kind: 'write', id, bytes: copy }, [copy.buffer]);
    },
    end: (trailers) => send({ kind: 'end', id, trailers }),
  });
  send(
    outcome.ok
      ? { kind: 'done', id, ok: true, fuel: outcome.fuel, ms: outcome.ms }
      : {
          kind: 'done',
          id,
          ok: false,
          error: outcome.error.toJSON(),
          blame: outcome.error.blame,
          responded: outcome.responded,
          fuel: outcome.fuel,
          ms: outcome.ms,
        },
  );
});
