/** A parsed manifest with just a name, 1 MiB of memory and the given `[permissions]` lines. */

import { parseManifest } from '../../src/wasm/index.js';
import type { Manifest } from '../../src/wasm/manifest/schema.js';

export function manifestWith(name: string, permissions: readonly string[] = []): Manifest {
  return parseManifest(
    [
      '[component]',
      `name = "${name}"`,
      'version = "1.0.0"',
      'wasm = "c.wasm"',
      '[resources]',
      'memory = "1MiB"',
      '[permissions]',
      ...permissions,
    ].join('\n'),
    { baseDir: '/tmp' },
  );
}
