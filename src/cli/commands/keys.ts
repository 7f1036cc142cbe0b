/**
 * `airssys-wasm keys generate | sign | verify`: ed25519 keys for signing components, and the
 * signature file `Component.sig` beside a component's `Component.toml` (docs/signing.md).
 *
 * Note: `generate` never overwrites. A replaced private key cannot sign for the hosts that trust
 * the old public key, and a lost one cannot be recovered, so an existing pair is an error.
 */

import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  generateKeyPair,
  keyFingerprint,
  readKeyFile,
  SIGNATURE_FILE_NAME,
  signComponent,
  verifyComponent,
  writeSignatureFile,
} from '../../deploy/signing.js';
import { AirssysError } from '../../shared/errors.js';
import { EXIT_OK, printJson, reportError, usage } from '../output.js';
import { componentFolder, shortHash } from './install.js';

export const PRIVATE_KEY_FILE = 'airssys.key';
export const PUBLIC_KEY_FILE = 'airssys.pub';

interface JsonFlag {
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('generate ed25519 signing keys, sign component folders, verify their signatures')
    .addHelpText(
      'after',
      `
A signature covers the component's name, version, the sha256 of its binary and the sha256
of its Component.toml, and lives in ${SIGNATURE_FILE_NAME} beside Component.toml. Hosts that
list the public key as trusted record the component as trusted (docs/signing.md).

Example:
  airssys-wasm keys generate --out ./keys
  airssys-wasm keys sign ./counter --key ./keys/${PRIVATE_KEY_FILE}
  airssys-wasm keys verify ./counter --key ./keys/${PUBLIC_KEY_FILE}`,
    );

  keys
    .command('generate')
    .description(`write a new key pair: ${PRIVATE_KEY_FILE} (private, mode 0600) and ${PUBLIC_KEY_FILE}`)
    .requiredOption('--out <dir>', 'folder for the two files (created when missing)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Refuses to overwrite an existing ${PRIVATE_KEY_FILE} or ${PUBLIC_KEY_FILE} (exit 2).
Keep ${PRIVATE_KEY_FILE} with the signer; give ${PUBLIC_KEY_FILE} to the hosts.
With --json: {"ok":true,"privateKey":<path>,"publicKey":<path>,"fingerprint":"sha256:…"}.`,
    )
    .action((flags: JsonFlag & { out: string }) => {
      try {
        const written = writeKeyPair(flags.out);
        if (flags.json) printJson({ ok: true, ...written });
        else {
          process.stdout.write(
            `wrote ${written.privateKey} (private: keep it secret)\n` +
              `wrote ${written.publicKey} (public: add it to the hosts' trusted keys)\n` +
              `fingerprint ${written.fingerprint}\n`,
          );
        }
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.exitCode = reportError(error, flags.json ?? false);
      }
    });

  keys
    .command('sign')
    .description(`sign a component folder: writes ${SIGNATURE_FILE_NAME} beside its Component.toml`)
    .argument('<component>', 'component folder or its Component.toml')
    .requiredOption('--key <private.pem>', `the private key (${PRIVATE_KEY_FILE})`)
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Sign after the last build and the last edit of Component.toml: changing either afterwards
breaks the signature. An older ${SIGNATURE_FILE_NAME} is replaced.
With --json: {"ok":true,"name","version","sha256","manifestSha256","key","file"}.`,
    )
    .action(async (component: string, flags: JsonFlag & { key: string }) => {
      try {
        const folder = componentFolder(component);
        const key = readKeyFile(flags.key, 'private');
        const signature = await signComponent(folder, key);
        // Note: verified before it is written, which also reads the folder once more: what the
        // file says it signs is what the folder holds now.
        const signed = await verifyComponent(folder, [createPublicKey(key)], { signature });
        const file = writeSignatureFile(folder, signature);
        if (flags.json) {
          printJson({
            ok: true,
            name: signed.name,
            version: signed.version,
            sha256: signed.hash,
            manifestSha256: signed.manifestDigest,
            key: signed.keyFingerprint,
            file,
          });
        } else {
          process.stdout.write(
            `signed ${signed.name}@${signed.version} (sha256 ${shortHash(signed.hash)}) with key ${signed.keyFingerprint.slice(0, 19)}: wrote ${file}\n`,
          );
        }
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.exitCode = reportError(error, flags.json ?? false);
      }
    });

  keys
    .command('verify')
    .description(`check a component folder's ${SIGNATURE_FILE_NAME} against public keys`)
    .argument('<component>', 'component folder or its Component.toml')
    .requiredOption(
      '--key <public.pem>',
      `a public key (${PUBLIC_KEY_FILE}); repeat to accept any of several`,
      collect,
      [],
    )
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Exit 0 when the signature verifies against one of the keys; exit 1 with signature-invalid
when it is missing, malformed, made by another key, or the binary or Component.toml changed
after signing.
With --json: {"ok":true,"valid":true,"name","version","sha256","manifestSha256","key"}.`,
    )
    .action(async (component: string, flags: JsonFlag & { key: string[] }) => {
      try {
        const keys = flags.key.map((file) => readKeyFile(file, 'public'));
        const signed = await verifyComponent(componentFolder(component), keys);
        if (flags.json) {
          printJson({
            ok: true,
            valid: true,
            name: signed.name,
            version: signed.version,
            sha256: signed.hash,
            manifestSha256: signed.manifestDigest,
            key: signed.keyFingerprint,
          });
        } else {
          process.stdout.write(
            `${signed.name}@${signed.version}: signature valid (sha256 ${shortHash(signed.hash)}, key ${signed.keyFingerprint.slice(0, 19)})\n`,
          );
        }
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.exitCode = reportError(error, flags.json ?? false);
      }
    });
}

/** Writes a new pair into `dir`; neither file may exist yet. */
function writeKeyPair(dir: string): { privateKey: string; publicKey: string; fingerprint: string } {
  const out = resolve(dir);
  const privateFile = join(out, PRIVATE_KEY_FILE);
  const publicFile = join(out, PUBLIC_KEY_FILE);
  for (const file of [privateFile, publicFile]) {
    if (existsSync(file)) {
      throw usage(
        `${file} already exists: keys are never overwritten (the hosts that trust the old key would stop accepting your signatures); pick another --out or move the old pair away`,
      );
    }
  }
  const pair = generateKeyPair();
  try {
    mkdirSync(out, { recursive: true });
    // Note: 'wx' fails if the file appeared meanwhile; the mode is set at creation, so the
    // private key is never readable by others, not even for a moment.
    writeFileSync(privateFile, pair.privateKey, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw unwritable(error, privateFile);
  }
  try {
    writeFileSync(publicFile, pair.publicKey, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    rmSync(privateFile, { force: true });
    throw unwritable(error, publicFile);
  }
  return { privateKey: privateFile, publicKey: publicFile, fingerprint: keyFingerprint(pair.publicKey) };
}

function unwritable(error: unknown, file: string): AirssysError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new AirssysError(
    code === 'EEXIST' ? 'invalid-argument' : 'storage-error',
    `cannot write ${file} (${code}): ${code === 'EEXIST' ? 'it appeared meanwhile; keys are never overwritten' : 'check that the folder is writable'}`,
    { cause: error, details: { path: file } },
  );
}
