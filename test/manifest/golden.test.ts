/**
 * Golden tests for `Component.toml`. Every `valid/<name>.toml` must load and match
 * `valid/<name>.expected.json`; every `invalid/<name>.toml` must fail as `invalid/<name>.expected.txt`
 * says. Adding a file adds a test. `UPDATE_GOLDEN=1 npx vitest run test/manifest` rewrites the
 * expected files from the current behaviour (review the diff before committing).
 *
 * Normal form of a valid manifest (`.expected.json`): the `Manifest` as JSON, except that
 * `component.wasm` is shown relative to the manifest's folder (POSIX separators) and `source` is
 * `{ "file": "<manifest file name>" }` (the absolute path and the digest vary, and are tested in
 * parse.test.ts).
 *
 * An optional `<name>.policy.json` holds a partial host policy (merged with `resolvePolicy`) used
 * for that one file; without it the default policy applies.
 *
 * An `.expected.txt` has three lines: `code: …`, `field: …`, `message: …`.
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAirssysError } from '../../src/shared/errors.js';
import { type HostPolicy, resolvePolicy } from '../../src/wasm/engine/policy.js';
import { loadManifest, type Manifest } from '../../src/wasm/manifest/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

function cases(folder: string): string[] {
  return readdirSync(path.join(here, folder))
    .filter((name) => name.endsWith('.toml'))
    .map((name) => name.slice(0, -'.toml'.length))
    .sort();
}

function policyFor(folder: string, name: string): HostPolicy {
  const file = path.join(here, folder, `${name}.policy.json`);
  return existsSync(file) ? resolvePolicy(JSON.parse(readFileSync(file, 'utf8'))) : resolvePolicy();
}

function normalise(manifest: Manifest, file: string): unknown {
  const dir = path.dirname(file);
  return {
    ...manifest,
    component: {
      ...manifest.component,
      wasm: path.relative(dir, manifest.component.wasm).split(path.sep).join('/'),
    },
    source: { file: path.basename(file) },
  };
}

function checkGolden(expectedFile: string, actual: string, json = false): void {
  if (update) {
    writeFileSync(expectedFile, actual);
    return;
  }
  if (!existsSync(expectedFile)) {
    throw new Error(`${path.relative(here, expectedFile)} is missing; run with UPDATE_GOLDEN=1 to create it`);
  }
  const expected = readFileSync(expectedFile, 'utf8');
  if (json) {
    // Compare values, then key order, so reformatting the expected file (e.g. by an editor) does not matter.
    expect(JSON.parse(actual)).toEqual(JSON.parse(expected));
    expect(JSON.stringify(JSON.parse(actual))).toBe(JSON.stringify(JSON.parse(expected)));
  } else {
    expect(actual).toBe(expected);
  }
}

const valid = cases('valid');
const invalid = cases('invalid');

it('has enough golden cases', () => {
  expect(valid.length).toBeGreaterThanOrEqual(8);
  expect(invalid.length).toBeGreaterThanOrEqual(25);
});

describe('valid manifests', () => {
  it.each(valid)('%s', async (name) => {
    const file = path.join(here, 'valid', `${name}.toml`);
    const manifest = await loadManifest(file, policyFor('valid', name));
    expect(Object.isFrozen(manifest)).toBe(true);
    checkGolden(
      path.join(here, 'valid', `${name}.expected.json`),
      `${JSON.stringify(normalise(manifest, file), null, 2)}\n`,
      true,
    );
  });
});

describe('invalid manifests', () => {
  it.each(invalid)('%s', async (name) => {
    const file = path.join(here, 'invalid', `${name}.toml`);
    let error: unknown;
    try {
      await loadManifest(file, policyFor('invalid', name));
    } catch (caught) {
      error = caught;
    }
    if (!isAirssysError(error)) throw new Error(`expected an AirssysError, got ${String(error)}`);
    const field = String(error.details?.field ?? '');
    if (error.code === 'invalid-manifest') {
      expect(error.blame).toBe('guest');
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(error.message).not.toContain('\n');
      expect(error.details?.path).toBe(file);
    }
    checkGolden(
      path.join(here, 'invalid', `${name}.expected.txt`),
      `code: ${error.code}\nfield: ${field}\nmessage: ${error.message}\n`,
    );
  });
});
