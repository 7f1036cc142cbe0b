#!/usr/bin/env node
// A tiny HTTP server for trying examples/http-fetch by hand. It listens on 127.0.0.1 only, on
// the port http-fetch's Component.toml grants (8787; PORT=… to change both).
//
//   node examples/http-fetch/server.mjs
//
//   GET /hello          200 "hello from server.mjs"
//   GET /time           200 {"now": "<ISO date>"}       (application/json)
//   GET /status/<code>  that status, e.g. /status/404
//   anything else       404
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8787);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const status = /^\/status\/([2-5]\d\d)$/.exec(url.pathname);
  console.log(`${req.method} ${url.pathname} (${req.headers['user-agent'] ?? 'no user-agent'})`);
  if (url.pathname === '/hello') {
    res.setHeader('content-type', 'text/plain');
    res.end('hello from server.mjs\n');
  } else if (url.pathname === '/time') {
    res.setHeader('content-type', 'application/json');
    res.end(`${JSON.stringify({ now: new Date().toISOString() })}\n`);
  } else if (status) {
    res.statusCode = Number(status[1]);
    res.end(`status ${status[1]}\n`);
  } else {
    res.statusCode = 404;
    res.end('not found: try /hello, /time or /status/418\n');
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${port} (Ctrl-C to stop)`);
});
