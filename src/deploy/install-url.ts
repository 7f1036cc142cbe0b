/**
 * Installing from an HTTP(S) URL with a pinned hash: `<url>` is a component folder served over
 * HTTP — its `Component.toml` and the binary the manifest's `wasm` names, relative to it. The
 * binary must hash to the sha256 the caller pinned, so what is installed is exactly what was
 * reviewed, whoever serves it; the manifest is covered by the registry's own digest.
 */

import { createHash } from 'node:crypto';
import { AirssysError } from '../shared/errors.js';
import { parseManifest } from '../wasm/manifest/parse.js';
import { MANIFEST_FILE_NAME } from '../wasm/manifest/schema.js';
import type { ComponentRegistry, VersionRecord } from './registry.js';

/** Largest manifest or binary fetched, in bytes: a hostile server cannot fill the memory. */
const MAX_FETCH_BYTES = 64 * 1024 * 1024;

async function fetchBytes(url: URL, what: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (error) {
    throw new AirssysError('not-found', `cannot fetch ${what} from ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    throw new AirssysError(
      'not-found',
      `fetching ${what} from ${url} answered HTTP ${response.status}; check the URL`,
    );
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_FETCH_BYTES) {
    throw new AirssysError(
      'invalid-argument',
      `${what} at ${url} is ${declared} bytes, over the ${MAX_FETCH_BYTES}-byte limit`,
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > MAX_FETCH_BYTES) {
    throw new AirssysError('invalid-argument', `${what} at ${url} is over the ${MAX_FETCH_BYTES}-byte limit`);
  }
  return bytes;
}

export async function installFromUrl(
  registry: ComponentRegistry,
  location: string,
  pinnedSha256: string,
): Promise<VersionRecord> {
  let base: URL;
  try {
    base = new URL(location.endsWith('/') ? location : `${location}/`);
  } catch {
    throw new AirssysError('invalid-argument', `not a URL: ${JSON.stringify(location)}`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new AirssysError('invalid-argument', `${location}: only http(s) URLs can be installed from`);
  }
  const pinned = pinnedSha256.replace(/^sha256:/, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(pinned)) {
    throw new AirssysError(
      'invalid-argument',
      'the pinned hash must be a full sha256 (64 hex characters): installs from a URL are pinned',
    );
  }
  const manifestText = new TextDecoder('utf-8', { fatal: true }).decode(
    await fetchBytes(new URL(MANIFEST_FILE_NAME, base), MANIFEST_FILE_NAME),
  );
  // The manifest's `wasm` is a relative path; resolve it against the URL, not a local folder.
  const manifest = parseManifest(manifestText, { baseDir: '/', policy: registry.policy });
  const bytes = await fetchBytes(
    new URL(manifest.component.wasm.replace(/^\//, ''), base),
    'the component binary',
  );
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== pinned) {
    throw new AirssysError(
      'signature-invalid',
      `the binary at ${base} has sha256 ${actual}, not the pinned ${pinned}: it changed since it was pinned; review it and pin again`,
      { details: { expected: pinned, actual } },
    );
  }
  return registry.install({ bytes, manifestText, source: { kind: 'url', location: base.href } });
}
