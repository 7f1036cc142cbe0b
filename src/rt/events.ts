/**
 * Lifecycle events the host can watch: an actor started, was restarted (and why), stopped (and
 * why), or a supervisor gave up and escalated. Events are built only while someone listens, so
 * an unobserved system pays one length check per lifecycle step.
 */

import type { ExitReason } from './actor.js';
import type { ActorRef } from './actor-ref.js';

interface EventBase {
  /** The actor the event is about. */
  readonly ref: ActorRef;
  /** Its registered name, if any. */
  readonly name: string | undefined;
  /** Child id in its supervisor, when supervised. */
  readonly childId: string | undefined;
  /** `Date.now()` when it happened. */
  readonly at: number;
}

export type LifecycleEvent =
  | (EventBase & { readonly type: 'started' })
  | (EventBase & { readonly type: 'restarted'; readonly reason: ExitReason; readonly restarts: number })
  | (EventBase & { readonly type: 'stopped'; readonly reason: ExitReason })
  | (EventBase & { readonly type: 'escalated'; readonly reason: ExitReason });

export type LifecycleListener = (event: LifecycleEvent) => void;

export class EventHub {
  private listeners: LifecycleListener[] = [];

  /** True when at least one listener is registered; callers skip building events otherwise. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Adds a listener; returns the function that removes it. */
  on(listener: LifecycleListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: LifecycleEvent): void {
    // Note: a throwing listener must not break the runtime step that emitted the event.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {}
    }
  }
}
