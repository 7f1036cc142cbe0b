/**
 * `wasi:clocks/*`, read from the embedder's clock sources (the real time by default, a fixed or
 * stepped clock in tests). Subscriptions never wait (see `poll.ts`): `subscribe-instant` and
 * `subscribe-duration` return a pollable that is already ready, so a guest's `sleep` returns at
 * once instead of blocking a host thread. The unstable `timezone` interface answers UTC: the
 * host's own time zone is not the component's business.
 */

import type { WasiContext } from './options.js';
import { Pollable } from './poll.js';
import type { Interface } from './values.js';

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
      'subscribe-instant': () => new Pollable('subscribe-instant'),
      'subscribe-duration': () => new Pollable('subscribe-duration'),
    },
    'wasi:clocks/timezone': {
      display: () => ({ utcOffset: 0, name: 'UTC', inDaylightSavingTime: false }),
      'utc-offset': () => 0,
    },
  };
}
