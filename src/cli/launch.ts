#!/usr/bin/env node
/**
 * The `airssys-wasm` executable. It refuses an unsupported Node.js in one line before the command
 * bundle is even read: that bundle may use APIs an old Node.js lacks, and would fail there with a
 * stack trace (or, through a native addon, a segfault) instead of saying what to do.
 */

import { unsupportedNodeReason } from '../shared/node-runtime.js';

const reason = unsupportedNodeReason();
if (reason === undefined) await import('./main.js');
else {
  process.stderr.write(`error [unsupported-runtime]: ${reason}\n`);
  process.exitCode = 1;
}
