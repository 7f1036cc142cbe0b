/** Actors by name: one name, one actor, until it stops. */

import { AirssysError } from '../shared/errors.js';
import type { ActorRef } from './actor-ref.js';

export class Registry {
  private readonly byName = new Map<string, ActorRef>();

  /** Throws `invalid-argument` unless `name` is well formed and free. */
  checkFree(name: string): void {
    this.check(name, undefined);
  }

  /** Binds `name` to `ref`; throws `invalid-argument` when the name is taken or malformed. */
  register(name: string, ref: ActorRef): void {
    this.check(name, ref);
    this.byName.set(name, ref);
  }

  private check(name: string, ref: ActorRef | undefined): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new AirssysError(
        'invalid-argument',
        `name: expected a non-empty string, got ${JSON.stringify(name)}`,
      );
    }
    const current = this.byName.get(name);
    if (current !== undefined && current !== ref) {
      throw new AirssysError('invalid-argument', `name '${name}' is already registered to ${current}`, {
        details: { field: 'name', name },
      });
    }
  }

  unregister(name: string, ref?: ActorRef): void {
    if (ref === undefined || this.byName.get(name) === ref) this.byName.delete(name);
  }

  lookup(name: string): ActorRef | undefined {
    return this.byName.get(name);
  }

  /** Like `lookup` but throws `not-found`. */
  resolve(name: string): ActorRef {
    const ref = this.byName.get(name);
    if (ref === undefined) throw new AirssysError('not-found', `no actor is registered as '${name}'`);
    return ref;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
