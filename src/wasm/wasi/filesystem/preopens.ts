/**
 * The embedder's `preopens` turned into roots, once per `createWasi`: each host directory is
 * resolved to its real path now (a symlinked `--dir` means its target, and a later swap of that
 * symlink does not move the root) and must exist and be a directory, or `createWasi` fails
 * before any guest code runs.
 */

import { realpathSync, statSync } from 'node:fs';
import { AirssysError } from '../../../shared/errors.js';
import type { Preopen } from '../options.js';

/** One preopened directory: the boundary every path the guest passes through it stays beneath. */
export interface Root {
  /** What the guest sees (`get-directories`), e.g. `/data`. */
  readonly guest: string;
  /** The host directory as the embedder spelled it (for messages). */
  readonly host: string;
  /** Its real path: what "beneath" is measured against. */
  readonly real: string;
  /** No change through this root: no write, create, remove, rename, set-size, set-times. */
  readonly readOnly: boolean;
}

function invalid(index: number, message: string, cause?: unknown): AirssysError {
  return new AirssysError('invalid-argument', `wasi preopens[${index}]: ${message}`, {
    blame: 'host',
    cause,
    details: { preopen: index },
  });
}

export function resolvePreopens(preopens: readonly Preopen[]): Root[] {
  return preopens.map((p, i) => {
    if (typeof p?.host !== 'string' || p.host === '' || p.host.includes('\0')) {
      throw invalid(i, 'host must be the path of a directory');
    }
    if (typeof p.guest !== 'string' || p.guest === '' || p.guest.includes('\0')) {
      throw invalid(i, 'guest must be a non-empty name, such as "/data" or "."');
    }
    let real: string;
    try {
      real = realpathSync(p.host);
      if (!statSync(real).isDirectory()) throw invalid(i, `${p.host} is not a directory; pass a directory`);
    } catch (error) {
      if (error instanceof AirssysError) throw error;
      const why = (error as NodeJS.ErrnoException).code ?? String(error);
      throw invalid(i, `cannot open host directory ${p.host} (${why}); pass an existing directory`, error);
    }
    return Object.freeze({ guest: p.guest, host: p.host, real, readOnly: p.readOnly === true });
  });
}
