/**
 * Installing from a packaged archive: a `.tar`, `.tar.gz` or `.tgz` holding a component folder
 * (its `Component.toml` and binary, at the top or in one top-level folder). Extracted with the
 * `tar` package into a private temporary folder — regular files and folders only, no links, no
 * path that leaves the folder (`tar` strips absolute and `..` paths) — and installed from there;
 * the registry records the archive as the source.
 */

import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { extract } from 'tar';
import { AirssysError } from '../shared/errors.js';
import { parseManifest } from '../wasm/manifest/parse.js';
import { MANIFEST_FILE_NAME } from '../wasm/manifest/schema.js';
import type { ComponentRegistry, VersionRecord } from './registry.js';
import { readSignatureFile } from './signing.js';

/** Largest archive accepted, and largest total of the files it unpacks to. */
const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

export function isArchive(path: string): boolean {
  return /\.(tar|tar\.gz|tgz)$/i.test(path);
}

export async function installFromArchive(registry: ComponentRegistry, file: string): Promise<VersionRecord> {
  const archive = resolve(file);
  let size: number;
  try {
    size = (await stat(archive)).size;
  } catch {
    throw new AirssysError('not-found', `no archive at ${archive}`);
  }
  if (size > MAX_ARCHIVE_BYTES) {
    throw new AirssysError(
      'invalid-argument',
      `${archive} is ${size} bytes, over the ${MAX_ARCHIVE_BYTES}-byte limit`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'airssys-archive-'));
  try {
    let unpacked = 0;
    try {
      await extract({
        file: archive,
        cwd: dir,
        strict: true,
        // Only files and folders: a link could point anywhere once installed.
        filter: (_path, entry) => {
          const type = 'type' in entry ? entry.type : undefined;
          if (type !== 'File' && type !== 'Directory') return false;
          unpacked += 'size' in entry && typeof entry.size === 'number' ? entry.size : 0;
          if (unpacked > MAX_ARCHIVE_BYTES)
            throw new AirssysError(
              'invalid-argument',
              `${archive} unpacks to over ${MAX_ARCHIVE_BYTES} bytes`,
            );
          return true;
        },
      });
    } catch (error) {
      if (error instanceof AirssysError) throw error;
      throw new AirssysError(
        'invalid-argument',
        `${archive} is not a readable tar archive: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const folder = await componentRoot(dir, archive);
    const manifestText = await readFile(join(folder, MANIFEST_FILE_NAME), 'utf8');
    const manifest = parseManifest(manifestText, { baseDir: folder, policy: registry.policy });
    let bytes: Uint8Array;
    try {
      bytes = await readFile(manifest.component.wasm);
    } catch {
      throw new AirssysError(
        'invalid-argument',
        `${archive} has no ${manifest.component.wasm.slice(folder.length + 1)} beside its ${MANIFEST_FILE_NAME}`,
      );
    }
    return registry.install({
      bytes,
      manifestText,
      signature: readSignatureFile(folder),
      source: { kind: 'archive', location: archive },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The folder holding `Component.toml`: the archive's top, or its only top-level folder. */
async function componentRoot(dir: string, archive: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name === MANIFEST_FILE_NAME)) return dir;
  const folders = entries.filter((e) => e.isDirectory());
  if (folders.length === 1) {
    const inner = join(dir, folders[0].name);
    if ((await readdir(inner)).includes(MANIFEST_FILE_NAME)) return inner;
  }
  throw new AirssysError(
    'invalid-argument',
    `${archive} holds no ${MANIFEST_FILE_NAME} at its top or in a single top-level folder; pack the component folder`,
  );
}
