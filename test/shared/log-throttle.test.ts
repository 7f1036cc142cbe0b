import { describe, expect, it, vi } from 'vitest';
import { throttledLog } from '../../src/shared/log-throttle.js';

describe('throttled log', () => {
  it('writes the first line of a kind at once and only a count of the rest when the window ends', () => {
    vi.useFakeTimers();
    try {
      const lines: string[] = [];
      const log = throttledLog((m) => lines.push(m), 1000);
      for (let i = 0; i < 10_000; i++) log('frames refused', `frame ${i} refused`);
      log('other', 'another kind');
      expect(lines).toEqual(['frame 0 refused', 'another kind']);
      vi.advanceTimersByTime(1000);
      expect(lines).toEqual([
        'frame 0 refused',
        'another kind',
        'frames refused: 9,999 more like it in the last 1000 ms',
      ]);
      // A new window starts fresh.
      log('frames refused', 'frame again');
      expect(lines.at(-1)).toBe('frame again');
    } finally {
      vi.useRealTimers();
    }
  });
});
