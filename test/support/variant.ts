/**
 * A built fixture under another name, config and limits: a temporary folder holding a copy of
 * the fixture's binary and a new `Component.toml`. Lets one test run several differently
 * configured instances of the same component (the stages of a pipeline, several subscribers).
 */

import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './fixtures.js';
import { tempDir } from './temp.js';

export interface VariantOptions {
  name: string;
  /** Semver label (default 0.1.0). */
  version?: string;
  config?: Record<string, string>;
  /** `[resources]` lines besides memory, e.g. `{ mailbox: 8, fuel: 1_000_000 }`. */
  resources?: Record<string, number>;
  /** Raw TOML lines for `[permissions]`. */
  permissions?: string[];
  /** Raw TOML lines for `[supervision]`. */
  supervision?: string[];
}

export function variant(base: string, options: VariantOptions): string {
  const dir = tempDir(`variant-${options.name}`);
  copyFileSync(join(fixture(base), 'component.wasm'), join(dir, 'component.wasm'));
  const lines = [
    '[component]',
    `name = "${options.name}"`,
    `version = "${options.version ?? '0.1.0'}"`,
    'wasm = "component.wasm"',
    '',
    '[resources]',
    'memory = "1MiB"',
    ...Object.entries(options.resources ?? {}).map(([k, v]) => `${k} = ${v}`),
    '',
    '[permissions]',
    ...(options.permissions ?? []),
    '',
    '[supervision]',
    ...(options.supervision ?? []),
    '',
    '[config]',
    ...Object.entries(options.config ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
    '',
  ];
  writeFileSync(join(dir, 'Component.toml'), lines.join('\n'));
  return dir;
}
