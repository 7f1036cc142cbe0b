// Resizing a running version (what a cluster host does when the placement gives it more or
// fewer instances): instances are added and removed while requests flow, none is refused or
// lost, and stopped instances leave the routes before they stop. Runs against dist/ (built by
// `npm test` before vitest): scheduler threads load compiled JS.
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHost, versionId } from '../../dist/host/index.js';
import { Engine } from '../../dist/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const engine = new Engine();
const hosts: ComponentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close();
});

for (const threads of [0, 2]) {
  describe(`resize — ${threads === 0 ? 'on the caller thread' : 'over two scheduler threads'}`, () => {
    it('grows and shrinks the instances of a version while requests flow, without a failed request', async () => {
      const host = await ComponentHost.create({ threads, dataDir: tempDir('resize') });
      hosts.push(host);
      const echo = await engine.load(fixture('echo'));
      await host.start(echo, { instances: 1 });
      const version = versionId(echo);
      let ok = 0;
      const failed: unknown[] = [];
      let running = true;
      const traffic = (async () => {
        while (running) {
          await host.request('echo', 'x', { timeoutMs: 2000 }).then(
            () => ok++,
            (error) => failed.push(error),
          );
          await new Promise((r) => setTimeout(r, 0));
        }
      })();
      const instances = () => host.routing('echo')[0].instances;
      await host.resize('echo', version, 4);
      expect(instances()).toBe(4);
      expect((await host.stats('echo')).length).toBe(4);
      await host.resize('echo', version, 2); // the group of 3 goes; one group of 1 comes
      expect(instances()).toBe(2);
      expect((await host.stats('echo')).length).toBe(2);
      await host.resize('echo', version, 1);
      expect((await host.stats('echo')).length).toBe(1);
      running = false;
      await traffic;
      expect(failed).toEqual([]);
      expect(ok).toBeGreaterThan(0);
    });

    it('refuses a count outside 1..1024 and an unknown version', async () => {
      const host = await ComponentHost.create({ threads, dataDir: tempDir('resize-bad') });
      hosts.push(host);
      const echo = await engine.load(fixture('echo'));
      await host.start(echo);
      await expect(host.resize('echo', versionId(echo), 0)).rejects.toMatchObject({
        code: 'invalid-argument',
      });
      await expect(host.resize('echo', 'nope', 2)).rejects.toMatchObject({ code: 'not-found' });
    });
  });
}
