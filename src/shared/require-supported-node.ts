/**
 * Imported first by every public entry point, so that an unsupported Node.js is refused with one
 * clear error before any module that needs a newer API (or a native addon built for one) loads.
 */

import { assertSupportedNode } from './node-runtime.js';

assertSupportedNode();
