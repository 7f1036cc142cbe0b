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
