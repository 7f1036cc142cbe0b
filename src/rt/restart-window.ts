/**
 * OTP's restart intensity: at most `intensity` restarts within any sliding `period` of
 * milliseconds. The window keeps only the timestamps that still count.
 */

export class RestartWindow {
  private readonly stamps: number[] = [];

  constructor(
    readonly intensity: number,
    readonly period: number,
  ) {}

  /** Records a restart at `now`; false when it would exceed the intensity (the supervisor must give up). */
  record(now: number): boolean {
    const since = now - this.period;
    while (this.stamps.length > 0 && this.stamps[0] <= since) this.stamps.shift();
    if (this.stamps.length >= this.intensity) return false;
    this.stamps.push(now);
    return true;
  }

  /** Restarts still inside the window (drives backoff). */
  get count(): number {
    return this.stamps.length;
  }

  reset(): void {
    this.stamps.length = 0;
  }
}
