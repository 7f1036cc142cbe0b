/**
 * Turns the bytes a component writes to stdout or stderr into log lines, with bounded memory.
 *
 * Threat model: the guest controls every byte. A line without a newline, a newline-free
 * megabyte, a tight loop of writes or invalid UTF-8 must not grow host memory or flood the
 * host's log. So the partial line kept between writes is at most `maxLineChars` (the rest of a
 * long line is dropped and the line ends in `…`), and at most `maxOutputBytesPerCall` bytes per
 * call reach the decoder at all; past that, output is dropped until `endCall()` and one marker
 * line says so. Invalid UTF-8 becomes U+FFFD. Lines are passed on raw (control characters included): the sink
 * is the place that escapes for its medium, as it does for the component's own `log` calls.
 */

import type { ByteSink } from './byte-io.js';
import type { LineSink } from './options.js';

/** A `ByteSink` that hands lines to a `LineSink` (the daemon's log); never waits, never fails. */
export class LineOutput implements ByteSink {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private pending = '';
  /** The current line was cut at `maxLineChars`: drop everything up to its newline. */
  private cut = false;
  private budget: number;
  /** The budget ran out during this call: everything until `endCall()` is dropped. */
  private exhausted = false;

  constructor(
    private readonly sink: LineSink | undefined,
    private readonly maxLineChars: number,
    private readonly maxBytesPerCall: number,
  ) {
    this.budget = maxBytesPerCall;
  }

  write(bytes: Uint8Array): void {
    if (this.sink === undefined || bytes.length === 0 || this.exhausted) return;
    const taken = Math.min(bytes.length, this.budget);
    this.budget -= taken;
    const text = this.decoder.decode(taken === bytes.length ? bytes : bytes.subarray(0, taken), {
      stream: true,
    });
    this.push(text);
    if (taken < bytes.length) {
      // Said at once rather than at endCall, so an embedder that never calls it still hears it.
      this.exhausted = true;
      this.endLine();
      this.sink(
        `[output truncated: more than ${this.maxBytesPerCall} bytes in one call; the rest of this call's output is dropped]`,
      );
    }
  }

  /** Emits the partial line and starts a new per-call budget. */
  endCall(): void {
    if (this.sink !== undefined && !this.exhausted) this.endLine();
    this.exhausted = false;
    this.budget = this.maxBytesPerCall;
  }

  private endLine(): void {
    this.push(this.decoder.decode());
    if (this.pending.length > 0 || this.cut) this.emit();
  }

  private push(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) {
        this.append(text, start, text.length);
        return;
      }
      this.append(text, start, nl);
      this.emit();
      start = nl + 1;
    }
  }

  private append(text: string, from: number, to: number): void {
    if (this.cut || from === to) return;
    const room = this.maxLineChars - this.pending.length;
    if (to - from <= room) {
      this.pending += text.slice(from, to);
      return;
    }
    let end = from + room;
    // Never split a surrogate pair: a lone half is not text.
    const last = text.charCodeAt(end - 1);
    if (end > from && last >= 0xd800 && last <= 0xdbff) end--;
    this.pending += text.slice(from, end);
    this.cut = true;
  }

  private emit(): void {
    let line = this.pending;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (this.cut) line += '…';
    this.pending = '';
    this.cut = false;
    this.sink?.(line);
  }
}
