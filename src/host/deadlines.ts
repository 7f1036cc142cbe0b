/**
 * Request deadlines on one timer. A component may have thousands of requests in flight; a
 * `setTimeout` each would cost a timer object and a libuv entry per message, so deadlines sit
 * in a binary min-heap and one timer is armed for the earliest.
 */

export class Deadlines<T> {
  private times: number[] = [];
  private items: T[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private readonly fireFn = () => this.fire();

  constructor(private readonly expired: (item: T) => void) {}

  /** `at` is a `performance.now()` time. */
  add(at: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= at) break;
      times[i] = times[parent];
      items[i] = items[parent];
      i = parent;
    }
    times[i] = at;
    items[i] = item;
    if (at < this.armedFor) this.arm(at);
  }

  get size(): number {
    return this.times.length;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.times = [];
    this.items = [];
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fireFn, Math.max(0, at - performance.now()));
    // A pending request must not keep the process alive on its own.
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    while (this.times.length > 0 && this.times[0] <= now) this.expired(this.pop());
    if (this.times.length > 0) this.arm(this.times[0]);
  }

  private pop(): T {
    const times = this.times;
    const items = this.items;
    const top = items[0];
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r] < times[l] ? r : l;
        if (times[c] >= lastTime) break;
        times[i] = times[c];
        items[i] = items[c];
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }
}
