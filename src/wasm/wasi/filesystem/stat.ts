/**
 * What the guest learns about a file: `descriptor-type`, `descriptor-stat` and
 * `metadata-hash-value`, from Node's bigint stats (nanosecond times, 64-bit sizes).
 *
 * Note: the metadata hash is a keyed hash of (device, inode), the identity the preview1 adapter
 * turns into `st_ino`: stable for a file while this process runs, different for different
 * files, and not the host's inode numbers (the WIT asks that the inputs not be recoverable).
 */

import { createHmac, randomBytes } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';

export type DescriptorType =
  | 'unknown'
  | 'block-device'
  | 'character-device'
  | 'directory'
  | 'fifo'
  | 'symbolic-link'
  | 'regular-file'
  | 'socket';

/** `wasi:clocks/wall-clock.datetime`. */
export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

export interface DescriptorStat {
  type: DescriptorType;
  linkCount: bigint;
  size: bigint;
  dataAccessTimestamp: Datetime | undefined;
  dataModificationTimestamp: Datetime | undefined;
  statusChangeTimestamp: Datetime | undefined;
}

export interface MetadataHashValue {
  lower: bigint;
  upper: bigint;
}

/** Anything with the `is…()` tests of `fs.Stats` / `fs.Dirent`. */
type Typed = Pick<
  Dirent,
  'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'
>;

export function descriptorType(st: Typed): DescriptorType {
  if (st.isFile()) return 'regular-file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic-link';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'unknown';
}

const NS = 1_000_000_000n;

/** A time before 1970 has no `datetime` (its seconds are unsigned): reported as none. */
function datetime(ns: bigint): Datetime | undefined {
  if (ns < 0n) return undefined;
  return { seconds: ns / NS, nanoseconds: Number(ns % NS) };
}

export function descriptorStat(st: BigIntStats): DescriptorStat {
  return {
    type: descriptorType(st),
    linkCount: st.nlink,
    size: st.size,
    dataAccessTimestamp: datetime(st.atimeNs),
    dataModificationTimestamp: datetime(st.mtimeNs),
    statusChangeTimestamp: datetime(st.ctimeNs),
  };
}

const HASH_KEY = randomBytes(32);

export function metadataHash(st: BigIntStats): MetadataHashValue {
  const digest = createHmac('sha256', HASH_KEY).update(`${st.dev}:${st.ino}`).digest();
  return { lower: digest.readBigUInt64LE(0), upper: digest.readBigUInt64LE(8) };
}

/** Same file: same device and inode. */
export function sameObject(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
