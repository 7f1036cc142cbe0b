/**
 * The lifecycle state machine (SPEC §6): the legal path, every illegal transition refused
 * (exhaustively and over random sequences), events with timestamps and reasons, and history kept
 * through the registry across a restart.
 */

import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  isLegalTransition,
  LIFECYCLE_STATES,
  Lifecycle,
  type LifecycleEvent,
  type LifecycleState,
  TRANSITIONS,
} from '../../src/deploy/lifecycle.js';
import { ComponentRegistry } from '../../src/deploy/registry.js';
import { AirssysError } from '../../src/shared/errors.js';
import { tempDir } from '../support/temp.js';

/** Walks `key` from `uninstalled` to `state` along legal transitions. */
function reach(lifecycle: Lifecycle, key: string, state: LifecycleState): void {
  const path: Partial<Record<LifecycleState, LifecycleState[]>> = {
    uninstalled: [],
    installing: ['installing'],
    installed: ['installing', 'installed'],
    starting: ['installing', 'installed', 'starting'],
    running: ['installing', 'installed', 'starting', 'running'],
    updating: ['installing', 'installed', 'starting', 'running', 'updating'],
    stopping: ['installing', 'installed', 'starting', 'running', 'stopping'],
    stopped: ['installing', 'installed', 'starting', 'running', 'stopping', 'stopped'],
    failed: ['installing', 'failed'],
  };
  for (const to of path[state]!) lifecycle.transition(key, to, 'setup');
}

describe('Lifecycle', () => {
  it('lifecycle — follows the legal path, one event per step with its time and reason', () => {
    let clock = 1000;
    const lifecycle = new Lifecycle({ now: () => clock++ });
    const seen: LifecycleEvent[] = [];
    lifecycle.on((event) => seen.push(event));
    const steps: [LifecycleState, string][] = [
      ['installing', 'operator install'],
      ['installed', 'stored'],
      ['starting', 'deploy'],
      ['running', 'init ok'],
      ['updating', 'v2 rollout'],
      ['running', 'switched'],
      ['stopping', 'shutdown'],
      ['stopped', 'drained'],
      ['starting', 'restart'],
      ['failed', 'init trapped'],
      ['stopped', 'gave up'],
      ['uninstalled', 'removed'],
    ];
    let from: LifecycleState = 'uninstalled';
    for (const [to, reason] of steps) {
      const event = lifecycle.transition('counter', to, reason);
      expect(event).toEqual({ key: 'counter', from, to, at: expect.any(Number), reason });
      expect(lifecycle.state('counter')).toBe(to);
      from = to;
    }
    expect(seen).toHaveLength(steps.length);
    expect(seen.map((e) => e.at)).toEqual(steps.map((_, i) => 1000 + i));
    expect(lifecycle.history('counter').map((e) => e.reason)).toEqual(steps.map(([, r]) => r));
    expect(lifecycle.history('counter', 2).map((e) => e.to)).toEqual(['stopped', 'uninstalled']);
  });

  it('lifecycle — refuses every transition not in the table, naming from, to and the legal targets', () => {
    for (const from of LIFECYCLE_STATES) {
      for (const to of LIFECYCLE_STATES) {
        if (isLegalTransition(from, to)) continue;
        const persist = vi.fn();
        const lifecycle = new Lifecycle({ persist });
        reach(lifecycle, 'c', from);
        const before = lifecycle.history('c');
        persist.mockClear();
        let error: unknown;
        try {
          lifecycle.transition('c', to, 'nope');
        } catch (caught) {
          error = caught;
        }
        expect(error, `${from} → ${to}`).toBeInstanceOf(AirssysError);
        const e = error as AirssysError;
        expect(e.code).toBe('invalid-argument');
        expect(e.details).toEqual({ key: 'c', from, to, legal: [...TRANSITIONS[from]] });
        expect(e.message).toContain(`from ${from} to ${to}`);
        for (const legal of TRANSITIONS[from]) expect(e.message).toContain(legal);
        expect(lifecycle.state('c')).toBe(from);
        expect(lifecycle.history('c')).toEqual(before);
        expect(persist).not.toHaveBeenCalled();
      }
    }
  });

  it('lifecycle — state changes only on legal transitions, over random sequences (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...LIFECYCLE_STATES), { maxLength: 60 }), (targets) => {
        const lifecycle = new Lifecycle();
        const events: LifecycleEvent[] = [];
        lifecycle.on((event) => events.push(event));
        let expected: LifecycleState = 'uninstalled';
        let legalCount = 0;
        for (const to of targets) {
          const legal = TRANSITIONS[expected].includes(to);
          if (legal) {
            expect(lifecycle.transition('k', to, 'r')).toMatchObject({ from: expected, to });
            expected = to;
            legalCount++;
          } else {
            expect(() => lifecycle.transition('k', to, 'r')).toThrow(
              expect.objectContaining({ code: 'invalid-argument' }),
            );
          }
          expect(lifecycle.state('k')).toBe(expected);
        }
        expect(events).toHaveLength(legalCount);
        for (let i = 1; i < events.length; i++) expect(events[i].from).toBe(events[i - 1].to);
      }),
    );
  });

  it('lifecycle — every state has a way on, and every state can be reached', () => {
    const reached = new Set<LifecycleState>(['uninstalled']);
    const queue: LifecycleState[] = ['uninstalled'];
    while (queue.length) {
      for (const next of TRANSITIONS[queue.shift()!]) {
        if (!reached.has(next)) reached.add(next) && queue.push(next);
      }
    }
    expect([...reached].sort()).toEqual([...LIFECYCLE_STATES].sort());
    for (const state of LIFECYCLE_STATES) {
      expect(TRANSITIONS[state].length, state).toBeGreaterThan(0);
      expect(TRANSITIONS[state], state).not.toContain(state);
    }
  });

  it('lifecycle — keys are independent; snapshot shows each; unsubscribe stops events', () => {
    const lifecycle = new Lifecycle();
    const seen: string[] = [];
    const off = lifecycle.on((e) => seen.push(`${e.key}:${e.to}`));
    reach(lifecycle, 'counter@aaaa', 'running');
    reach(lifecycle, 'counter@bbbb', 'starting');
    off();
    lifecycle.transition('echo', 'installing', 'x');
    expect(lifecycle.snapshot()).toEqual({
      'counter@aaaa': 'running',
      'counter@bbbb': 'starting',
      echo: 'installing',
    });
    expect(lifecycle.state('never-seen')).toBe('uninstalled');
    expect(seen).toHaveLength(7);
  });

  it('lifecycle — a failing persist refuses the transition; a failing listener does not', () => {
    const lifecycle = new Lifecycle({
      persist: (event) => {
        if (event.to === 'installed') throw new Error('disk full');
      },
      onListenerError: (error) => errors.push(String(error)),
    });
    const errors: string[] = [];
    const later: string[] = [];
    lifecycle.on(() => {
      throw new Error('bad listener');
    });
    lifecycle.on((e) => later.push(e.to));
    lifecycle.transition('c', 'installing', 'go');
    expect(errors).toEqual(['Error: bad listener']);
    expect(later).toEqual(['installing']);
    expect(() => lifecycle.transition('c', 'installed', 'stored')).toThrow('disk full');
    expect(lifecycle.state('c')).toBe('installing');
    expect(lifecycle.history('c')).toHaveLength(1);
  });

  it('lifecycle — an unknown state or an empty key is refused with what to pass', () => {
    const lifecycle = new Lifecycle();
    expect(() => lifecycle.transition('c', 'flying' as LifecycleState, 'x')).toThrow(
      /use one of uninstalled/,
    );
    expect(() => lifecycle.transition('', 'installing', 'x')).toThrow(/instance key/);
  });

  it('lifecycle — history survives a restart when persisted through the registry', () => {
    const dir = tempDir('lifecycle');
    const registry = ComponentRegistry.open(dir);
    const lifecycle = new Lifecycle({ persist: (event) => registry.recordEvent(event) });
    reach(lifecycle, 'counter', 'running');
    lifecycle.transition('echo', 'installing', 'other key');
    const before = lifecycle.history('counter');
    registry.close();

    const reopened = ComponentRegistry.open(dir);
    expect(reopened.events('counter')).toEqual(before);
    expect(reopened.events('counter', 2).map((e) => e.to)).toEqual(['starting', 'running']);
    expect(reopened.events('echo')).toHaveLength(1);
    expect(reopened.events('nobody')).toEqual([]);
    expect(() => reopened.recordEvent({ key: 'x', from: 'up', to: 'down' } as never)).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
    reopened.close();
  });
});
