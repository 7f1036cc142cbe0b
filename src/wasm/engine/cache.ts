/**
 * On-disk cache of compiled components, keyed by content: sha256 of the component binary, the
 * instrumentation version and the memory clamp. An entry holds the decoded plan and the
 * instrumented core modules, with the sha256 of every file recorded in the entry's index; an
 * entry whose files do not match their recorded hashes (a torn write, tampering, disk rot) is
 * discarded and rebuilt, never loaded. Entries are written to a temporary folder and renamed
 * into place, so a crash mid-write leaves no half entry under the real key.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentPlan } from '../component/model.js';

/** Bump when instrumentation or the plan format changes: old entries then miss. */
export const CACHE_FORMAT = 'airssys-cache-2';

interface EntryIndex {
  format: string;
  key: string;
  plan: ComponentPlan;
  files: { name: string; sha256: string }[];
}

export interface CachedComponent {
  plan: ComponentPlan;
  modules: Uint8Array[];
}

export type CacheEvent =
  | { kind: 'hit'; key: string }
  | { kind: 'miss'; key: string }
  | { kind: 'corrupt'; key: string; reason: string }
  | { kind: 'stored'; key: string };

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ComponentCache {
  constructor(
    readonly dir: string,
    private readonly onEvent: (event: CacheEvent) => void = () => {},
  ) {}

  key(binaryHash: string, memoryMaxPages: number, instrumentVersion: string): string {
    return sha256(`${CACHE_FORMAT}\n${instrumentVersion}\n${memoryMaxPages}\n${binaryHash}`);
  }

  load(key: string): CachedComponent | undefined {
    const entry = join(this.dir, key);
    let index: EntryIndex;
    try {
      index = JSON.parse(readFileSync(join(entry, 'index.json'), 'utf8')) as EntryIndex;
    } catch {
      this.onEvent({ kind: 'miss', key });
      return undefined;
    }
    try {
      if (index.format !== CACHE_FORMAT || index.key !== key) throw new Error('index does not match its key');
      const modules = index.files.map((file) => {
        const bytes = readFileSync(join(entry, file.name));
        if (sha256(bytes) !== file.sha256) throw new Error(`${file.name} does not match its recorded sha256`);
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      });
      this.onEvent({ kind: 'hit', key });
      return { plan: index.plan, modules };
    } catch (error) {
      this.onEvent({ kind: 'corrupt', key, reason: (error as Error).message });
      rmSync(entry, { recursive: true, force: true });
      return undefined;
    }
  }

  store(key: string, value: CachedComponent): void {
    mkdirSync(this.dir, { recursive: true });
    const temp = join(this.dir, `.tmp-${key}-${randomBytes(6).toString('hex')}`);
    mkdirSync(temp);
    try {
      const files = value.modules.map((bytes, i) => {
        const name = `module-${i}.wasm`;
        writeFileSync(join(temp, name), bytes);
        return { name, sha256: sha256(bytes) };
      });
      const index: EntryIndex = { format: CACHE_FORMAT, key, plan: value.plan, files };
      writeFileSync(join(temp, 'index.json'), JSON.stringify(index));
      rmSync(join(this.dir, key), { recursive: true, force: true });
      renameSync(temp, join(this.dir, key));
      this.onEvent({ kind: 'stored', key });
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      throw error;
    }
  }
}
