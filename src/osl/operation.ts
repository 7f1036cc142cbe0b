/**
 * One guest request to the OS, as it travels through the guard chain: what was asked
 * (`op`), on whose behalf, and what the guards decided along the way (the resolved location,
 * the checked lookup, the real executable). The terminal step reads those decisions — never
 * the raw request — when it calls a port.
 */

import type { FileHandle, Location, OpenMode } from './ports/file-system.js';
import type { Lookup } from './ports/network.js';

export type Operation =
  | { kind: 'fs.open'; path: unknown; mode: OpenMode }
  | { kind: 'fs.read-file'; path: unknown; maxBytes: number }
  | { kind: 'fs.write-file'; path: unknown; data: Uint8Array; append: boolean }
  | { kind: 'fs.stat' | 'fs.readdir' | 'fs.mkdir' | 'fs.unlink'; path: unknown }
  | { kind: 'fs.rename'; from: unknown; to: unknown }
  | { kind: 'fs.read'; handle: FileHandle; path: string; length: number; position?: number }
  | { kind: 'fs.write'; handle: FileHandle; path: string; data: Uint8Array; position?: number }
  | {
      kind: 'net.fetch';
      url: unknown;
      /** 0 for the request the guest made, n for the n-th redirect followed. */
      hop: number;
      method: string;
      headers: Record<string, string>;
      body?: Uint8Array;
      maxResponseBytes: number;
      timeoutMs: number;
      connectTimeoutMs?: number;
      firstByteTimeoutMs?: number;
    }
  | { kind: 'net.connect'; host: unknown; port: unknown; timeoutMs: number }
  /** A name looked up on its own (`wasi:sockets/ip-name-lookup`): granted when a connect to it could be. */
  | { kind: 'net.lookup'; host: unknown }
  /** Datagrams to `host:port` (UDP): granted where a TCP connect there would be. */
  | { kind: 'net.datagram'; host: unknown; port: unknown }
  /** A TCP listener on an address of this host (`wasi:sockets`); port 0 is any free port. */
  | { kind: 'net.listen'; host: unknown; port: unknown; backlog: number }
  | {
      kind: 'process.spawn';
      command: unknown;
      args: unknown;
      env: Record<string, string>;
      stdin?: Uint8Array;
      timeoutMs: number;
      maxOutputBytes: number;
    };

export type OperationKind = Operation['kind'];

/** Reads and writes on an already-open handle: audited only when refused (the open was audited). */
export const BULK_OPERATIONS: ReadonlySet<OperationKind> = new Set(['fs.read', 'fs.write']);

export interface OperationContext {
  readonly component: string;
  readonly version: string;
  readonly op: Operation;
  /** What the audit log names: path, URL, host:port or command line. Guards refine it. */
  subject: string;
  /** Set by the terminal step: every guard let the operation through. */
  granted: boolean;
  /** Why it was allowed when that is worth recording (development mode's would-deny). */
  note?: string;
  // Guard decisions, read by the terminal step.
  location?: Location;
  target?: Location;
  lookup?: Lookup;
  url?: URL;
  /** Normalised host of a TCP connection. */
  host?: string;
  command?: string;
  result?: unknown;
}

const MAX_SUBJECT = 2048;

/** A printable, bounded subject for the audit log, whatever the guest sent. */
export function describeSubject(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array) text = `bytes:${Buffer.from(value).toString('hex')}`;
  else if (value instanceof URL) text = value.href;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  // Note: NULs and other controls are escaped so a subject can never forge a log line.
  text = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return text.length > MAX_SUBJECT ? `${text.slice(0, MAX_SUBJECT)}…` : text;
}
