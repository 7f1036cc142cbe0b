/**
 * How CLI commands reach a running host: the daemon writes its URL to `<data-dir>/daemon.json`
 * and its token to `<data-dir>/admin-token`; commands call the admin API with both, so the CLI
 * and the dashboard use the same calls.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirssysError, type ErrorCode } from '../shared/errors.js';

export async function adminCall(
  dataDir: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  let url: string;
  let token: string;
  try {
    url = (JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { url: string }).url;
    token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  } catch {
    throw new AirssysError(
      'not-found',
      `no running host for ${dataDir}: start one with \`airssys-wasm host --data-dir ${dataDir}\``,
    );
  }
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new AirssysError(
      'not-found',
      `the host at ${url} does not answer (${(error as Error).message}); is it running?`,
    );
  }
  const doc = (await response.json()) as Record<string, unknown>;
  if (doc.ok === false) {
    const { code, message, details } = doc.error as {
      code: ErrorCode;
      message: string;
      details?: Record<string, unknown>;
    };
    throw new AirssysError(code, message, { details });
  }
  return doc;
}

/**
 * Follows the running host's event stream (`/v1/events`, server-sent events) until `stop` is
 * called; events the stream already held when it opened are skipped. `ready` settles once the
 * stream is open (or could not open, or after a second): a command starts its work after it, so
 * the first steps are not missed. Best effort — progress display must never fail the command it
 * accompanies, so a stream that cannot open just shows nothing.
 */
export function watchEvents(
  dataDir: string,
  onEvent: (event: Record<string, unknown>) => void,
): { ready: Promise<void>; stop: () => Promise<void> } {
  const controller = new AbortController();
  const since = Date.now();
  let opened!: () => void;
  const ready = new Promise<void>((resolve) => {
    opened = resolve;
    setTimeout(resolve, 1000).unref();
  });
  const done = (async () => {
    try {
      const url = (JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { url: string }).url;
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const response = await fetch(`${url}/v1/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      opened();
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (!frame.startsWith('data: ')) continue; // keep-alive comments
          const event = JSON.parse(frame.slice(6)) as Record<string, unknown>;
          if (typeof event.at === 'number' && event.at >= since) onEvent(event);
        }
      }
    } catch {
      // aborted, or no stream: nothing to show
    } finally {
      opened();
    }
  })();
  return {
    ready,
    // The last events may still be on their way when the work returns: give them a moment.
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort();
      await done;
    },
  };
}
