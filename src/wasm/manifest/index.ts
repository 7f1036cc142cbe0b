/** `Component.toml`: the manifest model, its parser and byte-size units (SPEC §3). */

export { manifestForBinary, nameFromFile } from './bare-binary.js';
export {
  checkHostPattern,
  checkPathGlob,
  checkRoute,
  checkTopicPattern,
  DOCUMENT_FIELD,
  isSemver,
  loadManifest,
  type ParseManifestOptions,
  parseManifest,
  suggestKey,
} from './parse.js';
export {
  type ComponentSection,
  DEFAULT_FUEL,
  DEFAULT_HTTP_MAX_BODY_BYTES,
  DEFAULT_MAILBOX,
  DEFAULT_STORAGE_QUOTA_BYTES,
  DEFAULT_SUPERVISION,
  DEFAULT_TIMEOUT_MS,
  type HttpSection,
  MANIFEST_FILE_NAME,
  MAX_MANIFEST_BYTES,
  type Manifest,
  type ManifestSource,
  type Permissions,
  RESTART_POLICIES,
  type Resources,
  type RestartPolicy,
  type Supervision,
} from './schema.js';
export { formatSize, parseSize, SIZE_ACCEPTED, SIZE_UNITS, type SizeResult, tryParseSize } from './units.js';
