/** The real Node ports against the shared contracts: a temp folder, loopback servers, coreutils. */

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { NodeFileSystem } from '../../src/osl/node/node-file-system.js';
import { NodeNetwork } from '../../src/osl/node/node-network.js';
import { NodeProcess } from '../../src/osl/node/node-process.js';
import { tempDir } from '../support/temp.js';
import { runFileSystemContract } from './contract/file-system.case.js';
import { runNetworkContract } from './contract/network.case.js';
import { runProcessContract } from './contract/process.case.js';
import { fixtureHttpHandler, loopbackLookup } from './support.js';

const base = tempDir('osl-fs');

runFileSystemContract('NodeFileSystem', {
  make: () => {
    const root = mkdtempSync(join(base, 'root-'));
    let seam: ((p: string) => void) | undefined;
    const fs = new NodeFileSystem({ beforeAccess: (p) => seam?.(p) });
    const abs = (rel: string) => join(root, rel);
    return {
      fs,
      root,
      file: (rel, text) => {
        mkdirSync(dirname(abs(rel)), { recursive: true });
        writeFileSync(abs(rel), text);
      },
      dir: (rel) => mkdirSync(abs(rel), { recursive: true }),
      symlink: (target, rel) => {
        mkdirSync(dirname(abs(rel)), { recursive: true });
        symlinkSync(target, abs(rel));
      },
      remove: (rel) => rmSync(abs(rel), { recursive: true, force: true }),
      beforeAccess: (fn) => {
        seam = fn;
      },
    };
  },
});

let httpServer: http.Server;
let tcpServer: net.Server;
let closedPort = 0;
const port = (s: net.Server) => (s.address() as net.AddressInfo).port;

beforeAll(async () => {
  httpServer = http.createServer(fixtureHttpHandler);
  tcpServer = net.createServer((socket) => socket.pipe(socket));
  const spare = net.createServer();
  await Promise.all(
    [httpServer, tcpServer, spare].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))),
  );
  closedPort = port(spare);
  await new Promise((r) => spare.close(r));
});

afterAll(() => {
  httpServer.closeAllConnections();
  httpServer.close();
  tcpServer.close();
});

runNetworkContract('NodeNetwork', {
  make: () => ({
    net: new NodeNetwork(),
    host: 'svc.test',
    httpPort: port(httpServer),
    tcpPort: port(tcpServer),
    closedPort,
    lookup: loopbackLookup,
  }),
});

runProcessContract('NodeProcess', {
  make: () => ({
    proc: new NodeProcess(),
    echo: '/usr/bin/echo',
    env: '/usr/bin/env',
    sleep: '/usr/bin/sleep',
    yes: '/usr/bin/yes',
    fail: '/usr/bin/false',
  }),
});
