/**
 * The guard chain: Hono's `compose` for OS operations. Each middleware may refuse (throw),
 * decide (annotate the context) and call `next()` once; the terminal step calls the port.
 */

import { AirssysError } from '../../shared/errors.js';
import type { OperationContext } from '../operation.js';

export type Next = () => Promise<void>;
export type Middleware = (ctx: OperationContext, next: Next) => Promise<void>;
export type Terminal = (ctx: OperationContext) => Promise<void>;

/**
 * Composes middleware around a terminal step into one function.
 *
 * @example
 * const run = compose([audit, pathGuard], async (ctx) => { ctx.result = await port.stat(ctx.location!); });
 * await run(ctx);
 */
export function compose(
  middleware: readonly Middleware[],
  terminal: Terminal,
): (ctx: OperationContext) => Promise<void> {
  const chain = [...middleware];
  return (ctx) => {
    let index = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= index) {
        return Promise.reject(new AirssysError('internal', 'a middleware called next() twice'));
      }
      index = i;
      if (i === chain.length) {
        ctx.granted = true;
        return terminal(ctx);
      }
      try {
        return chain[i](ctx, () => dispatch(i + 1));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return dispatch(0);
  };
}
