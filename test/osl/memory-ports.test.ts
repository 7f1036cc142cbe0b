/** The in-memory ports against the shared contracts. */

import { MemoryFileSystem } from '../../src/osl/memory/memory-file-system.js';
import { runFileSystemContract } from './contract/file-system.case.js';
import { runNetworkContract } from './contract/network.case.js';
import { runProcessContract } from './contract/process.case.js';
import { fakeCoreutils, loopbackLookup, memoryFixtureNetwork } from './support.js';

let roots = 0;

runFileSystemContract('MemoryFileSystem', {
  make: () => {
    const fs = new MemoryFileSystem();
    const root = `/srv/root-${++roots}`;
    fs.seedDir(root);
    fs.seedFile('/etc/hostname', 'host');
    const abs = (rel: string) => `${root}/${rel}`;
    return {
      fs,
      root,
      file: (rel, text) => fs.seedFile(abs(rel), text),
      dir: (rel) => fs.seedDir(abs(rel)),
      symlink: (target, rel) => fs.seedSymlink(target, abs(rel)),
      remove: (rel) => fs.seedRemove(abs(rel)),
      beforeAccess: (fn) => {
        fs.beforeAccess = fn;
      },
    };
  },
});

runNetworkContract('MemoryNetwork', {
  make: () => ({
    net: memoryFixtureNetwork('127.0.0.1', 8080, 9000),
    host: 'svc.test',
    httpPort: 8080,
    tcpPort: 9000,
    closedPort: 9999,
    lookup: loopbackLookup,
  }),
});

runProcessContract('MemoryProcess', {
  make: () => ({
    proc: fakeCoreutils(),
    echo: '/usr/bin/echo',
    env: '/usr/bin/env',
    sleep: '/usr/bin/sleep',
    yes: '/usr/bin/yes',
    fail: '/usr/bin/false',
  }),
});
