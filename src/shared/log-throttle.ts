/**
 * Logging that a flood cannot turn into a flood of log lines: the first line of a kind is
 * written at once, later ones of the same kind within `windowMs` are only counted, and the count
 * is written when the window ends ("… and 41,233 more like it"). Used where another party decides
 * how often a warning happens (frames from the network, messages from other hosts).
 */

export type ThrottledLog = (kind: string, message: string) => void;

export function throttledLog(write: (message: string) => void, windowMs = 1000): ThrottledLog {
  const counts = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    for (const [kind, n] of counts)
      if (n > 0) write(`${kind}: ${n.toLocaleString('en')} more like it in the last ${windowMs} ms`);
    counts.clear();
  };
  return (kind, message) => {
    const seen = counts.get(kind);
    if (seen !== undefined) {
      counts.set(kind, seen + 1);
      return;
    }
    counts.set(kind, 0);
    write(message);
    if (timer === undefined) {
      timer = setTimeout(flush, windowMs);
      timer.unref?.();
    }
  };
}
