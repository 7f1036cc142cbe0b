/**
 * What the daemon tells its watchers: lifecycle transitions, component logs, deployment steps,
 * failures. The last events are kept for `GET /v1/logs` and for a dashboard that connects late;
 * live watchers (the SSE stream) get each event as it happens.
 */

export type DaemonEvent =
  | { type: 'lifecycle'; key: string; from: string; to: string; at: number; reason: string }
  | {
      type: 'log';
      address: string;
      component?: string;
      version?: string;
      level: string;
      message: string;
      at: number;
    }
  | {
      type: 'deployment';
      id: string;
      address: string;
      op: string;
      detail: string;
      error?: string;
      at: number;
    }
  | { type: 'failed'; address: string; reason: string; at: number }
  | {
      /** A run of a wasi:cli/command component: its exit status, or the error that ended it. */
      type: 'job';
      address: string;
      status?: number;
      error?: string;
      fuel?: number;
      ms?: number;
      at: number;
    };

export class EventHub {
  private readonly recent: DaemonEvent[] = [];
  private readonly watchers = new Set<(event: DaemonEvent) => void>();

  constructor(private readonly keep = 500) {}

  emit(event: DaemonEvent): void {
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    for (const watcher of this.watchers) watcher(event);
  }

  /** The last `limit` events, oldest first. */
  last(limit = 100): DaemonEvent[] {
    return this.recent.slice(-limit);
  }

  watch(watcher: (event: DaemonEvent) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }
}
