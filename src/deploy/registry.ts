/**
 * The component registry: every installed version of every component, persisted in
 * `<dataDir>/registry.db` (SQLite, WAL, `synchronous = FULL`) with the binaries beside it in
 * `<dataDir>/blobs/<sha256>.wasm`, content-addressed. A version is (name, semver) → (binary hash,
 * manifest text, optional signature, where it came from); it is immutable: the same version
 * with other bytes is refused, so a version label always means one binary.
 *
 * Crash safety: a blob is written to a temporary file, fsynced and renamed before its row is
 * inserted, and the row goes in in one transaction, so a process killed mid-install leaves no
 * row or a complete one with its blob. What it may leave is a blob without a row (or a
 * temporary file); `open` deletes those. Installs, removals and that clean-up each hold SQLite's
 * write lock (`BEGIN IMMEDIATE`) while they touch blobs, so two connections on one data
 * directory never see each other's half-written state.
 *
 * A blob is checked against its hash every time it is read: a damaged file is reported as
 * `storage-error`, never returned.
 *
 * Each version records its trust level (`trusted`, `unknown`, `development`; see `signing.ts`),
 * and the host's trust policy decides at install which levels it accepts.
 */

import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AirssysError } from '../shared/errors.js';
import { DEFAULT_HOST_POLICY, type HostPolicy } from '../wasm/engine/policy.js';
import { parseManifest } from '../wasm/manifest/parse.js';
import type { Manifest } from '../wasm/manifest/schema.js';
import { isLifecycleState, type LifecycleEvent } from './lifecycle.js';
import { compareSemver, isValidSemver } from './semver.js';
import {
  assessTrust,
  checkSignature,
  readComponentFolder,
  readSignatureFile,
  requiredTrust,
  type TrustLevel,
  type TrustPolicy,
  toPublicKey,
  trustPolicy,
  trustRank,
} from './signing.js';

export { signingPayload } from './signing.js';

export const SOURCE_KINDS = ['folder', 'files', 'archive', 'url', 'cluster'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface InstallSource {
  readonly kind: SourceKind;
  /** The folder, file, archive path or URL the component came from (informational). */
  readonly location: string;
}

export interface InstallRequest {
  /** The component binary; `component.wasm` of the manifest is ignored, these bytes are stored. */
  bytes: Uint8Array;
  /** The `Component.toml` text, stored verbatim. */
  manifestText: string;
  source: InstallSource;
  /** Base64 ed25519 signature of `signingPayload(...)` (see `docs/signing.md`). */
  signature?: string;
  /** Install as a development build: trust level `development`, whatever the signature. */
  development?: boolean;
}

export interface VersionRecord {
  readonly name: string;
  readonly version: string;
  /** sha256 of the binary, lower-case hex. */
  readonly hash: string;
  /** sha256 of the manifest text (`Manifest.source.digest`). */
  readonly manifestDigest: string;
  readonly manifestText: string;
  readonly signature?: string;
  /** `trusted` (signature verified against a trusted key), `unknown` or `development`. */
  readonly trust: TrustLevel;
  readonly source: InstallSource;
  /** Milliseconds since the epoch. */
  readonly installedAt: number;
  /** True only on the `install` call that stored it. */
  readonly created: boolean;
}

export interface RegistryOptions {
  /** Limits a manifest must stay within (default: `DEFAULT_HOST_POLICY`). */
  policy?: HostPolicy;
  /** ed25519 public keys (PEM or `KeyObject`) a signature must verify against. */
  trustedKeys?: readonly (string | KeyObject)[];
  /** Same as `requireTrust: 'trusted'` (kept for compatibility). Default false. */
  requireSignature?: boolean;
  /**
   * The lowest trust level an install may have: `development` (default: anything), `unknown`
   * (no development builds) or `trusted` (a signature verified against `trustedKeys`).
   */
  requireTrust?: TrustLevel;
  /** Per-component minimum levels, by component name; they replace `requireTrust` for it. */
  requireTrustFor?: Readonly<Record<string, TrustLevel>>;
  /** Clock for `installedAt`; default `Date.now`. */
  now?: () => number;
  /**
   * Judges a new version before it is stored (the deployer compiles it and checks its world and
   * routes); throws to refuse the install. Not called for a version already installed.
   */
  check?: (bytes: Uint8Array, manifest: Manifest) => void;
}

export interface ListFilter {
  name?: string;
  /** Only versions installed at or after this time (ms since the epoch). */
  since?: number;
}

export interface RetainOptions {
  /** How many of the newest versions (by semver) to keep. */
  keep: number;
  /** Hashes of binaries in use: never removed, whatever `keep` says. */
  protect?: readonly string[];
}

/** 2 added `versions.trust` (migrated in place; older rows start as `unknown`). */
const SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    hash TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    manifest_text TEXT NOT NULL,
    signature TEXT,
    trust TEXT NOT NULL DEFAULT 'unknown',
    source_kind TEXT NOT NULL,
    source_location TEXT NOT NULL,
    installed_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS versions_hash ON versions (hash);
  CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_key ON events (key, id);
`;

interface Row {
  name: string;
  version: string;
  hash: string;
  manifest_digest: string;
  manifest_text: string;
  signature: string | null;
  trust: TrustLevel;
  source_kind: SourceKind;
  source_location: string;
  installed_at: number;
}

interface EventRow {
  key: string;
  from_state: string;
  to_state: string;
  at: number;
  reason: string;
}

const HASH_RE = /^[0-9a-f]{64}$/;
const HASH_PREFIX_RE = /^[0-9a-f]{8,64}$/;
const BLOB_RE = /^([0-9a-f]{64})\.wasm$/;
const TEMP_PREFIX = '.tmp-';
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * @example
 * const registry = ComponentRegistry.open('/var/lib/airssys');
 * const record = await registry.installFolder('fixtures/build/counter');
 * const bytes = registry.binary(registry.latest('counter'));
 * registry.retain('counter', { keep: 3, protect: [record.hash] });
 */
export class ComponentRegistry {
  private readonly blobDir: string;
  private readonly dbPath: string;
  /** The limits manifests are judged by (the host's memory ceiling among them). */
  readonly policy: HostPolicy;
  private readonly trustedKeys: KeyObject[];
  private readonly trustPolicy: TrustPolicy;
  private readonly now: () => number;
  private readonly check: RegistryOptions['check'];

  private constructor(
    private readonly db: Database.Database,
    readonly dataDir: string,
    options: RegistryOptions,
    trustedKeys: KeyObject[],
  ) {
    this.blobDir = path.join(dataDir, 'blobs');
    this.dbPath = path.join(dataDir, 'registry.db');
    this.policy = options.policy ?? DEFAULT_HOST_POLICY;
    this.trustedKeys = trustedKeys;
    this.trustPolicy = trustPolicy(options);
    this.now = options.now ?? Date.now;
    this.check = options.check;
  }

  /** Opens (creating when absent) the registry in `dataDir`, and deletes orphan blobs. */
  static open(dataDir: string, options: RegistryOptions = {}): ComponentRegistry {
    const dir = path.resolve(dataDir);
    const dbPath = path.join(dir, 'registry.db');
    const trustedKeys = (options.trustedKeys ?? []).map((key) => toPublicKey(key));
    trustPolicy(options); // Note: a bad level is a configuration error, reported before any I/O.
    let db: Database.Database;
    try {
      mkdirSync(path.join(dir, 'blobs'), { recursive: true });
      db = new Database(dbPath);
    } catch (error) {
      throw storageError(error, dbPath, 'opening the registry');
    }
    try {
      db.pragma('busy_timeout = 5000');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        throw new AirssysError(
          'storage-error',
          `${dbPath}: SQLite could not switch to WAL mode (got '${String(mode)}'): put the data directory on a local file system`,
          { details: { path: dbPath } },
        );
      }
      db.pragma('synchronous = FULL');
      migrate(db, dbPath);
      const registry = new ComponentRegistry(db, dir, options, trustedKeys);
      registry.removeOrphans();
      registry.checkStoredSignatures();
      return registry;
    } catch (error) {
      db.close();
      throw error instanceof AirssysError ? error : storageError(error, dbPath, 'opening the registry');
    }
  }

  /**
   * Stores a version. Installing the same name, version, binary and manifest again returns the
   * stored record with `created: false` (and rewrites its blob if that was damaged); the same
   * name and version with anything else is refused: versions are immutable.
   */
  install(request: InstallRequest): VersionRecord {
    const { bytes, manifestText, source } = request;
    checkSource(source);
    if (!(bytes instanceof Uint8Array)) {
      throw new AirssysError(
        'invalid-argument',
        'install: bytes must be a Uint8Array of the component binary',
        {
          details: { type: typeof bytes },
        },
      );
    }
    if (typeof manifestText !== 'string') {
      throw new AirssysError('invalid-argument', 'install: manifestText must be the Component.toml text', {
        details: { type: typeof manifestText },
      });
    }
    const manifest = parseManifest(manifestText, { baseDir: this.dataDir, policy: this.policy });
    const { name, version } = manifest.component;
    checkBinary(bytes, name, version, this.policy.caps.maxBinaryBytes);
    const hash = sha256(bytes);
    const manifestDigest = manifest.source.digest;
    const { trust, signature } = assessTrust(
      request,
      { name, version, hash, manifestDigest },
      this.trustedKeys,
      this.trustPolicy,
    );
    const stored = this.db
      .prepare('SELECT 1 FROM versions WHERE name = ? AND version = ? AND hash = ? AND manifest_digest = ?')
      .get(name, version, hash, manifestDigest);
    if (stored === undefined) this.check?.(bytes, manifest);

    return this.write('installing', () => {
      const existing = this.db
        .prepare('SELECT * FROM versions WHERE name = ? AND version = ?')
        .get(name, version) as Row | undefined;
      if (existing !== undefined) {
        if (existing.hash !== hash || existing.manifest_digest !== manifestDigest) {
          throw conflict(existing, hash, manifestDigest);
        }
        if (!this.blobIsIntact(hash)) this.writeBlob(hash, bytes);
        // Note: the content is immutable, its trust is not: installing it again signed by a
        // trusted key raises it (never lowers it), so "sign it and install again" works.
        if (trustRank(trust) > trustRank(existing.trust)) {
          const raised = { ...existing, trust, signature: signature ?? existing.signature };
          this.db
            .prepare('UPDATE versions SET trust = ?, signature = ? WHERE name = ? AND version = ?')
            .run(raised.trust, raised.signature, name, version);
          return toRecord(raised, false);
        }
        return toRecord(existing, false);
      }
      if (!this.blobIsIntact(hash)) this.writeBlob(hash, bytes);
      const row: Row = {
        name,
        version,
        hash,
        manifest_digest: manifestDigest,
        manifest_text: manifestText,
        signature: signature ?? null,
        trust,
        source_kind: source.kind,
        source_location: source.location,
        installed_at: this.now(),
      };
      this.db
        .prepare(
          `INSERT INTO versions (name, version, hash, manifest_digest, manifest_text, signature, trust, source_kind, source_location, installed_at)
           VALUES (@name, @version, @hash, @manifest_digest, @manifest_text, @signature, @trust, @source_kind, @source_location, @installed_at)`,
        )
        .run(row);
      return toRecord(row, true);
    });
  }

  /**
   * Installs from a component folder: its `Component.toml` and the binary its `wasm` names,
   * signed by `options.signature` or else by the folder's `Component.sig` when it has one.
   */
  async installFolder(
    dir: string,
    options: { signature?: string; development?: boolean } = {},
  ): Promise<VersionRecord> {
    const { folder, manifestText, bytes } = await readComponentFolder(dir, this.policy);
    const signature = options.signature ?? readSignatureFile(folder);
    return this.install({
      bytes,
      manifestText,
      source: { kind: 'folder', location: folder },
      ...(signature === undefined ? {} : { signature }),
      ...(options.development === undefined ? {} : { development: options.development }),
    });
  }

  /** The lowest trust level this registry accepts for component `name`. */
  requiredTrust(name: string): TrustLevel {
    return requiredTrust(this.trustPolicy, name);
  }

  /**
   * Judges an installed version as if it were installed now, with the current trusted keys and
   * policy: returns its trust level, or throws `signature-invalid`. For a deployer to call before
   * running a version installed before the policy got stricter or a key was withdrawn.
   */
  checkTrust(
    record: Pick<VersionRecord, 'name' | 'version' | 'hash' | 'manifestDigest' | 'signature' | 'trust'>,
  ): TrustLevel {
    const request = { signature: record.signature, development: record.trust === 'development' };
    return assessTrust(request, record, this.trustedKeys, this.trustPolicy).trust;
  }

  /**
   * A version by semver (`"1.2.0"`) or by binary hash: the full sha256 or a prefix of at least 8
   * hex characters (optionally `sha256:`-prefixed). Throws `not-found`, or `invalid-argument`
   * when a prefix matches more than one version.
   */
  get(name: string, versionOrHash: string): VersionRecord {
    return toRecord(this.find(name, versionOrHash), false);
  }

  /** The highest version of `name` by semver precedence. */
  latest(name: string): VersionRecord {
    const rows = this.rowsOf(name);
    if (rows.length === 0) throw notInstalled(name);
    return toRecord(rows[rows.length - 1], false);
  }

  /** Versions sorted by name, then semver (oldest first). */
  list(filter: ListFilter = {}): VersionRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.name !== undefined) where.push('name = ?') && params.push(filter.name);
    if (filter.since !== undefined) where.push('installed_at >= ?') && params.push(filter.since);
    const rows = this.db
      .prepare(`SELECT * FROM versions${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`)
      .all(...params) as Row[];
    return sortRows(rows).map((row) => toRecord(row, false));
  }

  /** Each component name with how many versions it has and its latest one. */
  components(): { name: string; versions: number; latest: string }[] {
    const out = new Map<string, { name: string; versions: number; latest: string }>();
    for (const record of this.list()) {
      const entry = out.get(record.name);
      if (entry === undefined)
        out.set(record.name, { name: record.name, versions: 1, latest: record.version });
      else {
        entry.versions++;
        entry.latest = record.version;
      }
    }
    return [...out.values()];
  }

  /** The binary of `record`, checked against its hash (`storage-error` when it does not match). */
  binary(record: Pick<VersionRecord, 'name' | 'version' | 'hash'>): Uint8Array {
    const file = this.blobPath(record.hash);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new AirssysError(
        'storage-error',
        `${record.name}@${record.version}: its binary ${file} cannot be read (${errnoOf(error)}): install the same version again to restore it, or restore the data directory from a backup`,
        {
          cause: error,
          details: { name: record.name, version: record.version, hash: record.hash, path: file },
        },
      );
    }
    const actual = sha256(bytes);
    if (actual !== record.hash) {
      throw new AirssysError(
        'storage-error',
        `${record.name}@${record.version}: its binary ${file} is damaged (sha256 ${actual}, expected ${record.hash}): install the same version again to restore it, or restore the data directory from a backup`,
        { details: { name: record.name, version: record.version, hash: record.hash, actual, path: file } },
      );
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Removes one version; its blob goes too when no other version uses it. */
  remove(name: string, versionOrHash: string): VersionRecord {
    const row = this.find(name, versionOrHash);
    this.write('removing', () => {
      this.db.prepare('DELETE FROM versions WHERE name = ? AND version = ?').run(row.name, row.version);
    });
    this.collect([row.hash]);
    return toRecord(row, false);
  }

  /**
   * Deletes all but the newest `keep` versions of `name` (by semver), never one whose hash is in
   * `protect`. Returns the removed versions, oldest first.
   */
  retain(name: string, options: RetainOptions): VersionRecord[] {
    const { keep } = options;
    if (!Number.isInteger(keep) || keep < 0) {
      throw new AirssysError(
        'invalid-argument',
        `retain ${name}: keep ${keep} is not a non-negative integer: pass how many versions to keep, e.g. 3`,
        { details: { name, keep } },
      );
    }
    const protect = new Set((options.protect ?? []).map((hash) => normalizeHash(hash)));
    for (const hash of protect) {
      if (!HASH_RE.test(hash)) {
        throw new AirssysError(
          'invalid-argument',
          `retain ${name}: protected hash ${JSON.stringify(hash)} is not a full sha256: pass the 64 hex characters of each binary in use`,
          { details: { name, hash } },
        );
      }
    }
    const removed = this.write('pruning', () => {
      const rows = this.rowsOf(name);
      const victims = rows.slice(0, Math.max(0, rows.length - keep)).filter((row) => !protect.has(row.hash));
      const remove = this.db.prepare('DELETE FROM versions WHERE name = ? AND version = ?');
      for (const row of victims) remove.run(row.name, row.version);
      return victims;
    });
    this.collect(removed.map((row) => row.hash));
    return removed.map((row) => toRecord(row, false));
  }

  /** Stores a lifecycle event: pass as `new Lifecycle({ persist: (e) => registry.recordEvent(e) })`. */
  recordEvent(event: LifecycleEvent): void {
    if (!isLifecycleState(event.from) || !isLifecycleState(event.to) || typeof event.key !== 'string') {
      throw new AirssysError(
        'invalid-argument',
        'recordEvent: not a lifecycle event: pass the event a Lifecycle transition returned',
        { details: { event } },
      );
    }
    this.write('recording an event', () => {
      this.db
        .prepare('INSERT INTO events (key, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?)')
        .run(event.key, event.from, event.to, event.at, event.reason);
    });
  }

  /** Stored events of `key`, oldest first; the newest `limit` when given. */
  events(key: string, limit?: number): LifecycleEvent[] {
    const rows = (
      limit === undefined
        ? this.db.prepare('SELECT * FROM events WHERE key = ? ORDER BY id').all(key)
        : this.db
            .prepare('SELECT * FROM events WHERE key = ? ORDER BY id DESC LIMIT ?')
            .all(key, Math.max(0, Math.floor(limit)))
            .reverse()
    ) as EventRow[];
    return rows.map((row) =>
      Object.freeze({
        key: row.key,
        from: row.from_state,
        to: row.to_state,
        at: row.at,
        reason: row.reason,
      } as LifecycleEvent),
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // -------------------------------------------------------------------------------------------

  private find(name: string, versionOrHash: string): Row {
    const wanted = String(versionOrHash);
    if (isValidSemver(wanted)) {
      const row = this.db
        .prepare('SELECT * FROM versions WHERE name = ? AND version = ?')
        .get(name, wanted) as Row | undefined;
      if (row === undefined) throw notInstalled(name, wanted, this.versionsOf(name));
      return row;
    }
    const prefix = normalizeHash(wanted);
    if (!HASH_PREFIX_RE.test(prefix)) {
      throw new AirssysError(
        'invalid-argument',
        `${name}: ${JSON.stringify(wanted)} is neither a semantic version nor a hash prefix: pass a version such as "1.2.0" or at least 8 hex characters of the binary's sha256`,
        { details: { name, versionOrHash: wanted } },
      );
    }
    const rows = sortRows(
      this.db
        .prepare('SELECT * FROM versions WHERE name = ? AND substr(hash, 1, ?) = ?')
        .all(name, prefix.length, prefix) as Row[],
    );
    if (rows.length === 0) throw notInstalled(name, wanted, this.versionsOf(name));
    if (rows.length > 1) {
      const matches = rows.map((row) => ({ version: row.version, hash: row.hash }));
      throw new AirssysError(
        'invalid-argument',
        `${name}: ${wanted} matches ${rows.length} versions (${rows.map((r) => `${r.version} = ${r.hash.slice(0, 12)}`).join(', ')}): pass a longer hash prefix or the version`,
        { details: { name, versionOrHash: wanted, reason: 'ambiguous', matches } },
      );
    }
    return rows[0];
  }

  private rowsOf(name: string): Row[] {
    return sortRows(this.db.prepare('SELECT * FROM versions WHERE name = ?').all(name) as Row[]);
  }

  private versionsOf(name: string): string[] {
    return this.rowsOf(name).map((row) => row.version);
  }

  /**
   * A signature stored unchecked (no trusted keys then, or a registry from before trust levels)
   * is checked once trusted keys are configured: the versions it verifies become `trusted`.
   */
  private checkStoredSignatures(): void {
    if (this.trustedKeys.length === 0) return;
    const rows = this.db
      .prepare("SELECT * FROM versions WHERE trust = 'unknown' AND signature IS NOT NULL")
      .all() as Row[];
    const verified = rows.filter((row) => {
      try {
        return checkSignature(row.signature!, signedOf(row), this.trustedKeys).verifiedBy !== undefined;
      } catch {
        return false; // Note: still `unknown`; `checkTrust` reports it if the policy needs more.
      }
    });
    if (verified.length === 0) return;
    this.write('recording verified signatures', () => {
      const update = this.db.prepare(
        "UPDATE versions SET trust = 'trusted' WHERE name = ? AND version = ? AND trust = 'unknown'",
      );
      for (const row of verified) update.run(row.name, row.version);
    });
  }

  /** Runs `body` holding the write lock; rolls back on any failure. */
  private write<T>(doing: string, body: () => T): T {
    try {
      this.db.prepare('BEGIN IMMEDIATE').run();
    } catch (error) {
      throw storageError(error, this.dbPath, doing);
    }
    try {
      const result = body();
      this.db.prepare('COMMIT').run();
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
      throw error instanceof AirssysError ? error : storageError(error, this.dbPath, doing);
    }
  }

  private blobPath(hash: string): string {
    return path.join(this.blobDir, `${hash}.wasm`);
  }

  private blobIsIntact(hash: string): boolean {
    try {
      return sha256(readFileSync(this.blobPath(hash))) === hash;
    } catch {
      return false;
    }
  }

  /** Temporary file, fsync, rename, fsync of the folder: the blob is whole or absent. */
  private writeBlob(hash: string, bytes: Uint8Array): void {
    const temp = path.join(
      this.blobDir,
      `${TEMP_PREFIX}${hash}-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    try {
      const fd = openSync(temp, 'wx');
      try {
        let written = 0;
        while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.blobPath(hash));
      syncDir(this.blobDir);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {}
      throw storageError(error, this.blobPath(hash), 'writing a binary');
    }
  }

  /** Deletes the blobs among `hashes` that no version uses any more. */
  private collect(hashes: readonly string[]): void {
    if (hashes.length === 0) return;
    this.write('deleting unused binaries', () => {
      const used = this.db.prepare('SELECT 1 FROM versions WHERE hash = ? LIMIT 1').pluck();
      for (const hash of new Set(hashes)) {
        if (used.get(hash) === undefined) unlinkIfPresent(this.blobPath(hash));
      }
    });
  }

  /** What a killed install or removal can leave behind: temporary files, blobs without a row. */
  private removeOrphans(): void {
    this.write('cleaning up after an interrupted install', () => {
      const used = this.db.prepare('SELECT 1 FROM versions WHERE hash = ? LIMIT 1').pluck();
      for (const entry of readdirSync(this.blobDir)) {
        const blob = BLOB_RE.exec(entry);
        if (entry.startsWith(TEMP_PREFIX) || (blob !== null && used.get(blob[1]) === undefined)) {
          unlinkIfPresent(path.join(this.blobDir, entry));
        }
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------

function migrate(db: Database.Database, dbPath: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new AirssysError(
        'storage-error',
        `${dbPath}: registry schema version ${version} is newer than this host's ${SCHEMA_VERSION}: upgrade airssys-wasm`,
        { details: { path: dbPath, version } },
      );
    }
    db.exec(SCHEMA);
    // Note: CREATE TABLE IF NOT EXISTS leaves a version-1 table as it was; add what it lacks.
    const columns = db.prepare('PRAGMA table_info(versions)').all() as { name: string }[];
    if (!columns.some((column) => column.name === 'trust')) {
      db.exec("ALTER TABLE versions ADD COLUMN trust TEXT NOT NULL DEFAULT 'unknown'");
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function toRecord(row: Row, created: boolean): VersionRecord {
  return Object.freeze({
    name: row.name,
    version: row.version,
    hash: row.hash,
    manifestDigest: row.manifest_digest,
    manifestText: row.manifest_text,
    ...(row.signature === null ? {} : { signature: row.signature }),
    trust: row.trust,
    source: Object.freeze({ kind: row.source_kind, location: row.source_location }),
    installedAt: row.installed_at,
    created,
  });
}

function signedOf(row: Row) {
  return { name: row.name, version: row.version, hash: row.hash, manifestDigest: row.manifest_digest };
}

function sortRows(rows: Row[]): Row[] {
  return rows.sort((a, b) =>
    a.name !== b.name ? (a.name < b.name ? -1 : 1) : compareSemver(a.version, b.version),
  );
}

function normalizeHash(text: string): string {
  return String(text)
    .replace(/^sha256:/i, '')
    .toLowerCase();
}

function checkSource(source: InstallSource | undefined): void {
  if (
    source === undefined ||
    !(SOURCE_KINDS as readonly string[]).includes(source.kind) ||
    typeof source.location !== 'string' ||
    source.location === ''
  ) {
    throw new AirssysError(
      'invalid-argument',
      `install: source must be { kind: ${SOURCE_KINDS.map((k) => `'${k}'`).join(' | ')}, location: non-empty string }: say where the component came from`,
      { details: { source } },
    );
  }
}

function checkBinary(bytes: Uint8Array, name: string, version: string, maxBytes: number): void {
  if (bytes.length < 8 || WASM_MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new AirssysError(
      'invalid-component',
      `${name}@${version}: the binary is not WebAssembly (no \\0asm header): pass the component.wasm the build produced`,
      { blame: 'guest', details: { name, version, size: bytes.length } },
    );
  }
  if (bytes.length > maxBytes) {
    throw new AirssysError(
      'invalid-component',
      `${name}@${version}: the binary is ${bytes.length} bytes, over the host's limit of ${maxBytes}: shrink it or raise policy.caps.maxBinaryBytes`,
      { blame: 'guest', details: { name, version, size: bytes.length, limit: maxBytes } },
    );
  }
}

function conflict(existing: Row, newHash: string, newManifestDigest: string): AirssysError {
  const { name, version } = existing;
  const what =
    existing.hash !== newHash
      ? `a different binary (sha256 ${newHash.slice(0, 12)}…, installed ${existing.hash.slice(0, 12)}…)`
      : 'the same binary with a different Component.toml';
  return new AirssysError(
    'invalid-argument',
    `${name}@${version} is already installed and versions are immutable, but this is ${what}: bump [component] version in Component.toml and install again`,
    {
      blame: 'guest',
      details: {
        reason: 'version-conflict',
        name,
        version,
        existingHash: existing.hash,
        newHash,
        existingManifestDigest: existing.manifest_digest,
        newManifestDigest,
      },
    },
  );
}

function notInstalled(name: string, wanted?: string, versions: string[] = []): AirssysError {
  const installed =
    versions.length === 0 ? 'no version of it is installed' : `installed: ${versions.join(', ')}`;
  return new AirssysError(
    'not-found',
    `${wanted === undefined ? name : `${name}@${wanted}`} is not in the registry (${installed}): install it first, or pick an installed version`,
    { details: { name, versionOrHash: wanted, versions } },
  );
}

function syncDir(dir: string): void {
  // Note: makes the rename itself durable; Windows cannot open a folder for fsync, and there the
  // rename is already as durable as the platform allows.
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    if (process.platform !== 'win32') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}

function storageError(error: unknown, file: string, doing: string): AirssysError {
  const code = errnoOf(error);
  const advice =
    code === 'ENOSPC' || code === 'SQLITE_FULL'
      ? 'the disk is full: free space on its volume'
      : code.startsWith('SQLITE_BUSY')
        ? 'another process held the registry for more than 5 s: retry, or make sure one host owns this data directory'
        : code === 'EACCES' || code === 'EPERM' || code.startsWith('SQLITE_READONLY')
          ? 'check that the host may write the data directory'
          : code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB'
            ? 'the registry database is damaged: restore the data directory from a backup'
            : 'check the disk and the data directory';
  return new AirssysError(
    'storage-error',
    `registry ${file}: ${doing} failed: ${error instanceof Error ? error.message : String(error)}: ${advice}`,
    { cause: error, details: { path: file, code } },
  );
}
