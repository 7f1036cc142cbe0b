/**
 * The authoring kit: `scaffold` (what `airssys-wasm new` does) and `buildComponent`
 * (`airssys-wasm build`) for components written in JavaScript or TypeScript.
 */

import '../shared/require-supported-node.js';

export {
  BUILD_PHASES,
  type BuildOptions,
  type BuildPhase,
  type BuildResult,
  buildComponent,
} from './build.js';
export { checkLang, checkName, type ScaffoldOptions, type ScaffoldResult, scaffold } from './scaffold.js';
export { LANGS, type Lang } from './templates.js';
