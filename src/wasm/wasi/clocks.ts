/**
 * `wasi:clocks/*`, read from the embedder's clock sources (the real time by default, a fixed or
 * stepped clock in tests). `subscribe-instant` and `subscribe-duration` give a pollable that is
 * ready once the monotonic clock reaches the instant; `poll` sleeps until then, never past the
 * call's deadline (poll.ts). With an injected clock the wait is the clock's remaining time in
 * real time, checked again against that clock: a frozen clock is never ready. The unstable
 * `timezone` interface answers UTC: the host's own time zone is not the component's business.
 */

import type { MonotonicClock, WasiContext } from './options.js';
import { Pollable } from './poll.js';
import type { Interface } from './values.js';

/** The largest instant (u64 nanoseconds); later sums saturate here: as good as never. */
const U64_MAX = (1n << 64n) - 1n;

/** Ready once `clock` reads `instant` (nanoseconds) or later. */
export class ClockPollable extends Pollable {
  constructor(
    source: string,
    private readonly clock: MonotonicClock,
    readonly instant: bigint,
  ) {
    super(source);
  }

  ready(): boolean {
    return this.clock.now() >= this.instant;
  }

  override dueAt(): number {
    const left = this.instant - this.clock.now();
    return performance.now() + (left <= 0n ? 0 : Number(left) / 1e6);
  }
}

export function clockInterfaces(ctx: WasiContext): Record<string, Interface> {
  const { wallClock, monotonicClock } = ctx;
  return {
    'wasi:clocks/wall-clock': {
      now: () => wallClock.now(),
      resolution: () => wallClock.resolution(),
    },
    'wasi:clocks/monotonic-clock': {
      now: () => monotonicClock.now(),
      resolution: () => monotonicClock.resolution(),
      'subscribe-instant': (when: bigint) => new ClockPollable('subscribe-instant', monotonicClock, when),
      'subscribe-duration': (duration: bigint) => {
        const instant = monotonicClock.now() + duration;
        return new ClockPollable('subscribe-duration', monotonicClock, instant > U64_MAX ? U64_MAX : instant);
      },
    },
    'wasi:clocks/timezone': {
      display: () => ({ utcOffset: 0, name: 'UTC', inDaylightSavingTime: false }),
      'utc-offset': () => 0,
    },
  };
}
