/**
 * Component signatures and trust levels (SPEC §3, §6; docs/signing.md).
 *
 * Threat model: whoever can write where components come from (a shared folder, an archive
 * server, a mirror) must not be able to swap the binary under a signed manifest, widen the
 * permissions of a signed binary, or move a signature onto another name or version. So an
 * ed25519 signature covers a short text naming all four: the name, the version, the sha256 of the
 * binary and the sha256 of the manifest text — the exact bytes, so an edited permission line, a
 * new `[config]` value or a changed comment all break it.
 *
 * A signature can always be deleted; that is what trust levels are for. An unsigned component is
 * `unknown`, and a host that accepts only `trusted` ones refuses it. A signature that is present
 * but wrong (malformed, another key, tampered content) is refused whatever the host accepts:
 * installing it at a lower level would hide a tampering or a mistake that someone should see.
 */

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AirssysError } from '../shared/errors.js';
import type { HostPolicy } from '../wasm/engine/policy.js';
import { parseManifest } from '../wasm/manifest/parse.js';
import { MANIFEST_FILE_NAME, type Manifest } from '../wasm/manifest/schema.js';

/** The signature file of a component folder, beside its `Component.toml`: base64 text. */
export const SIGNATURE_FILE_NAME = 'Component.sig';

/** Lowest first: a host that accepts a level accepts every level above it. */
export const TRUST_LEVELS = ['development', 'unknown', 'trusted'] as const;
/**
 * - `trusted`: its signature verified against one of the host's trusted keys.
 * - `unknown`: unsigned, or signed but the host had no trusted keys to check it with.
 * - `development`: installed with the explicit development flag (a local build, say).
 */
export type TrustLevel = (typeof TRUST_LEVELS)[number];

/** What a signature covers. */
export interface SignedVersion {
  name: string;
  version: string;
  /** sha256 of the binary, lower-case hex. */
  hash: string;
  /** sha256 of the manifest text, lower-case hex. */
  manifestDigest: string;
}

const ED25519_SIGNATURE_BYTES = 64;

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

export const trustRank = (level: TrustLevel): number => TRUST_LEVELS.indexOf(level);

export function isTrustLevel(value: unknown): value is TrustLevel {
  return (TRUST_LEVELS as readonly unknown[]).includes(value);
}

/** `value` as a trust level, or `invalid-argument` naming `field` and the levels. */
export function parseTrustLevel(value: unknown, field: string): TrustLevel {
  if (isTrustLevel(value)) return value;
  throw new AirssysError(
    'invalid-argument',
    `${field}: ${JSON.stringify(value)} is not a trust level: pass one of ${TRUST_LEVELS.join(', ')}`,
    { details: { field, value, levels: TRUST_LEVELS } },
  );
}

/**
 * The bytes a signature covers: the name, version, binary hash and manifest digest, so neither
 * the binary nor the permissions in the manifest can be swapped under a valid signature.
 *
 * @example
 * const signature = sign(null, signingPayload({ name, version, hash, manifestDigest }), privateKey).toString('base64');
 */
export function signingPayload(v: SignedVersion): Buffer {
  return Buffer.from(
    `airssys-wasm signature v1\nname ${v.name}\nversion ${v.version}\nwasm sha256:${v.hash}\nmanifest sha256:${v.manifestDigest}\n`,
    'utf8',
  );
}

// --- keys ------------------------------------------------------------------------------------

/**
 * A new ed25519 key pair in PEM: the private key (PKCS#8) signs, the public key (SPKI) goes into
 * the hosts' trusted keys.
 *
 * @example
 * const { publicKey, privateKey } = generateKeyPair();
 */
export function generateKeyPair(): { publicKey: string; privateKey: string } {
  const pair = generateKeyPairSync('ed25519');
  return {
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** `sha256:<hex>` of the key's SPKI encoding: a short name to tell keys apart in output. */
export function keyFingerprint(key: string | KeyObject): string {
  return `sha256:${sha256(toPublicKey(key).export({ type: 'spki', format: 'der' }))}`;
}

/** An ed25519 public key from PEM or a `KeyObject`; `what` names it in errors. */
export function toPublicKey(key: string | KeyObject, what = 'trustedKeys'): KeyObject {
  // Note: createPublicKey accepts a private key too (it derives the public half); refused here
  // so a signer's private key does not end up copied into host configuration.
  if (typeof key === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new AirssysError(
      'invalid-argument',
      `${what}: this is a private key: pass the public key (airssys.pub); the private key stays with the signer`,
    );
  }
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPublicKey(key) : key;
  } catch (error) {
    throw new AirssysError(
      'invalid-argument',
      `${what}: a key is not a PEM public key (${(error as Error).message}): pass ed25519 public keys in PEM (SPKI)`,
      { cause: error },
    );
  }
  if (object.asymmetricKeyType !== 'ed25519' || object.type !== 'public') {
    throw new AirssysError(
      'invalid-argument',
      `${what}: a key is a ${object.type} ${object.asymmetricKeyType ?? 'symmetric'} key: pass ed25519 public keys`,
      { details: { type: object.type, asymmetricKeyType: object.asymmetricKeyType } },
    );
  }
  return object;
}

/** An ed25519 private key from PEM or a `KeyObject`; `what` names it in errors. */
export function toPrivateKey(key: string | KeyObject, what = 'private key'): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPrivateKey(key) : key;
  } catch (error) {
    throw new AirssysError(
      'invalid-argument',
      `${what}: not a PEM private key (${(error as Error).message}): pass the airssys.key that \`airssys-wasm keys generate\` wrote`,
      { cause: error },
    );
  }
  if (object.asymmetricKeyType !== 'ed25519' || object.type !== 'private') {
    throw new AirssysError(
      'invalid-argument',
      `${what}: a ${object.type} ${object.asymmetricKeyType ?? 'symmetric'} key: pass an ed25519 private key`,
      { details: { type: object.type, asymmetricKeyType: object.asymmetricKeyType } },
    );
  }
  return object;
}

/** Reads a PEM key file; `not-found` when it cannot be read. */
export function readKeyFile(file: string, kind: 'public' | 'private'): KeyObject {
  const full = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw new AirssysError(
      'not-found',
      `cannot read the ${kind} key ${full} (${errnoOf(error)}): pass the ${kind === 'public' ? 'airssys.pub' : 'airssys.key'} that \`airssys-wasm keys generate\` wrote`,
      { cause: error, details: { path: full } },
    );
  }
  return kind === 'public' ? toPublicKey(text, full) : toPrivateKey(text, full);
}

/**
 * Registry trust options from configuration values (CLI flags, TOML): public key files and a
 * minimum level, both checked here so a typo fails at start, not at the first install.
 */
export function loadTrustOptions(settings: { trustedKeyFiles?: readonly string[]; requireTrust?: unknown }): {
  trustedKeys: KeyObject[];
  requireTrust?: TrustLevel;
} {
  const trustedKeys = (settings.trustedKeyFiles ?? []).map((file) => readKeyFile(file, 'public'));
  return settings.requireTrust === undefined
    ? { trustedKeys }
    : { trustedKeys, requireTrust: parseTrustLevel(settings.requireTrust, 'require-trust') };
}

// --- verification and policy -----------------------------------------------------------------

/**
 * Checks a signature of `signed`. Unsigned → `{ verifiedBy: undefined }`. Without trusted keys a
 * well-formed signature is returned unchecked (a host may check it later). Malformed, or not
 * verifying against any trusted key → `signature-invalid`.
 */
export function checkSignature(
  signature: string | undefined,
  signed: SignedVersion,
  trustedKeys: readonly KeyObject[],
): { signature?: string; verifiedBy?: KeyObject } {
  if (signature === undefined) return {};
  const facts = { name: signed.name, version: signed.version, hash: signed.hash };
  const at = `${signed.name}@${signed.version}`;
  const text = typeof signature === 'string' ? signature.replace(/\s/g, '') : '';
  const bytes = Buffer.from(text, 'base64');
  // Note: Buffer's base64 decoder skips what it does not understand; the round trip makes sure
  // the text was exactly one 64-byte signature, so a truncated or mangled file is reported.
  if (bytes.length !== ED25519_SIGNATURE_BYTES || bytes.toString('base64') !== text) {
    throw new AirssysError(
      'signature-invalid',
      `${at}: the signature is not a base64 ed25519 signature (${ED25519_SIGNATURE_BYTES} bytes): pass the base64 text the signer produced (${SIGNATURE_FILE_NAME}), or sign the component again`,
      { blame: 'guest', details: { ...facts, reason: 'malformed' } },
    );
  }
  if (trustedKeys.length === 0) return { signature: text };
  const payload = signingPayload(signed);
  const verifiedBy = trustedKeys.find((key) => verify(null, payload, key, bytes));
  if (verifiedBy !== undefined) return { signature: text, verifiedBy };
  throw new AirssysError(
    'signature-invalid',
    `${at}: the signature does not verify against any of the ${trustedKeys.length} trusted keys: the binary or Component.toml changed after signing, or another key signed it; sign this exact binary and manifest with a trusted key, or add the signer's key to the trusted keys`,
    { blame: 'guest', details: { ...facts, reason: 'unverified' } },
  );
}

/** What a host accepts: a minimum trust level, optionally another one for some components. */
export interface TrustPolicy {
  readonly requireTrust: TrustLevel;
  readonly requireTrustFor: ReadonlyMap<string, TrustLevel>;
}

/**
 * The policy from registry options. `requireSignature: true` means `requireTrust: 'trusted'`;
 * given both, the stricter wins. Default: everything is accepted (`development`).
 */
export function trustPolicy(options: {
  requireTrust?: TrustLevel;
  requireSignature?: boolean;
  requireTrustFor?: Readonly<Record<string, TrustLevel>>;
}): TrustPolicy {
  let requireTrust = parseTrustLevel(options.requireTrust ?? 'development', 'requireTrust');
  if (options.requireSignature === true) requireTrust = 'trusted';
  const requireTrustFor = new Map<string, TrustLevel>();
  for (const [name, level] of Object.entries(options.requireTrustFor ?? {})) {
    requireTrustFor.set(name, parseTrustLevel(level, `requireTrustFor.${name}`));
  }
  return { requireTrust, requireTrustFor };
}

export function requiredTrust(policy: TrustPolicy, name: string): TrustLevel {
  return policy.requireTrustFor.get(name) ?? policy.requireTrust;
}

/**
 * The trust level of a version about to be installed, or `signature-invalid` when the signature
 * is bad or the level is below what `policy` accepts for it.
 */
export function assessTrust(
  request: { signature?: string; development?: boolean },
  signed: SignedVersion,
  trustedKeys: readonly KeyObject[],
  policy: TrustPolicy,
): { trust: TrustLevel; signature?: string } {
  const checked = checkSignature(request.signature, signed, trustedKeys);
  // Note: the development flag only lowers trust: it is the operator saying "this is a local
  // build", so even a valid signature does not make it `trusted`.
  const trust: TrustLevel =
    request.development === true ? 'development' : checked.verifiedBy !== undefined ? 'trusted' : 'unknown';
  const required = requiredTrust(policy, signed.name);
  if (trustRank(trust) >= trustRank(required)) {
    return checked.signature === undefined ? { trust } : { trust, signature: checked.signature };
  }
  const at = `${signed.name}@${signed.version}`;
  const facts = { name: signed.name, version: signed.version, hash: signed.hash, trust, required };
  const [reason, message] =
    trust === 'development'
      ? [
          'development-refused',
          `${at}: installed as a development build, and this host accepts ${required} components or better here: install it without the development flag${required === 'trusted' ? ', signed with a trusted key' : ''}`,
        ]
      : checked.signature === undefined
        ? [
            'unsigned',
            `${at}: unsigned, and this host accepts only trusted components here: sign it with a key the host trusts (airssys-wasm keys sign <folder> --key airssys.key writes ${SIGNATURE_FILE_NAME} beside ${MANIFEST_FILE_NAME}) and install again`,
          ]
        : [
            'no-trusted-keys',
            `${at}: signed, but this host has no trusted keys to check the signature with, and it accepts only trusted components here: add the signer's public key to the host's trusted keys`,
          ];
  throw new AirssysError('signature-invalid', message, { blame: 'guest', details: { ...facts, reason } });
}

// --- component folders -----------------------------------------------------------------------

/** A component folder as `installFolder` reads it. */
export interface ComponentFiles {
  folder: string;
  manifestText: string;
  manifest: Manifest;
  bytes: Uint8Array;
  /** What a signature of this folder covers. */
  signed: SignedVersion;
}

/** Reads `Component.toml` and the binary its `wasm` names, validated with `policy`. */
export async function readComponentFolder(dir: string, policy?: HostPolicy): Promise<ComponentFiles> {
  const folder = path.resolve(dir);
  const file = path.join(folder, MANIFEST_FILE_NAME);
  let manifestText: string;
  try {
    manifestText = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AirssysError('not-found', `no ${MANIFEST_FILE_NAME} in ${folder}: pass a component folder`, {
        cause: error,
        details: { path: file },
      });
    }
    throw unreadable(error, file);
  }
  const manifest = parseManifest(manifestText, { baseDir: folder, path: file, policy });
  let bytes: Uint8Array;
  try {
    bytes = await readFile(manifest.component.wasm);
  } catch (error) {
    throw new AirssysError(
      'not-found',
      `${manifest.component.name}: cannot read ${manifest.component.wasm} (${errnoOf(error)}): build the component or fix [component] wasm`,
      { cause: error, details: { path: manifest.component.wasm } },
    );
  }
  const { name, version } = manifest.component;
  const signed = { name, version, hash: sha256(bytes), manifestDigest: manifest.source.digest };
  return { folder, manifestText, manifest, bytes, signed };
}

/** The trimmed text of `<folder>/Component.sig`, or undefined when the folder has none. */
export function readSignatureFile(folder: string): string | undefined {
  const file = path.join(path.resolve(folder), SIGNATURE_FILE_NAME);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(error, file);
  }
}

/** Writes `<folder>/Component.sig`, replacing an older one whole (written beside, renamed). */
export function writeSignatureFile(folder: string, signature: string): string {
  const file = path.join(path.resolve(folder), SIGNATURE_FILE_NAME);
  const temp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, `${signature}\n`);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw unreadable(error, file, 'write');
  }
  return file;
}

/**
 * Signs a component folder exactly as `installFolder` will read it; returns the base64 signature
 * (write it with `writeSignatureFile`).
 *
 * @example
 * const { privateKey } = generateKeyPair();
 * writeSignatureFile('components/counter', await signComponent('components/counter', privateKey));
 */
export async function signComponent(
  folder: string,
  privateKey: string | KeyObject,
  options: { policy?: HostPolicy } = {},
): Promise<string> {
  const key = toPrivateKey(privateKey);
  const { signed } = await readComponentFolder(folder, options.policy);
  return sign(null, signingPayload(signed), key).toString('base64');
}

/**
 * Verifies the signature of a component folder (`Component.sig`, or `options.signature`) against
 * `publicKeys`; returns what it covers and which key signed it, or throws `signature-invalid`.
 *
 * @example
 * const { keyFingerprint } = await verifyComponent('components/counter', [readFileSync('airssys.pub', 'utf8')]);
 */
export async function verifyComponent(
  folder: string,
  publicKeys: readonly (string | KeyObject)[],
  options: { signature?: string; policy?: HostPolicy } = {},
): Promise<SignedVersion & { signature: string; keyFingerprint: string }> {
  const keys = publicKeys.map((key) => toPublicKey(key, 'public key'));
  if (keys.length === 0) {
    throw new AirssysError('invalid-argument', 'verifyComponent: pass at least one ed25519 public key');
  }
  const files = await readComponentFolder(folder, options.policy);
  const signature = options.signature ?? readSignatureFile(files.folder);
  if (signature === undefined) {
    throw new AirssysError(
      'signature-invalid',
      `${files.signed.name}@${files.signed.version}: no ${SIGNATURE_FILE_NAME} in ${files.folder}: sign it first (airssys-wasm keys sign ${files.folder} --key airssys.key)`,
      { blame: 'guest', details: { ...files.signed, reason: 'unsigned' } },
    );
  }
  const checked = checkSignature(signature, files.signed, keys);
  return {
    ...files.signed,
    signature: checked.signature!,
    keyFingerprint: keyFingerprint(checked.verifiedBy!),
  };
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}

function unreadable(error: unknown, file: string, doing: 'read' | 'write' = 'read'): AirssysError {
  return new AirssysError(
    'storage-error',
    `cannot ${doing} ${file} (${errnoOf(error)}): check that it is a file this process may ${doing}`,
    { cause: error, details: { path: file } },
  );
}
