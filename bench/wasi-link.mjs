// What linking WASI into one instance costs the host (`createWasi`), with and without
// `wasi:sockets` grants: it is paid once per instance, so once per request by `serve` and the
// daemon's HTTP services (a fresh instance each). Median of rounds of 20,000 calls.
//
//   npm run build && node bench/wasi-link.mjs
import { createWasi } from '../dist/wasm/wasi/index.js';
import { describeMachine, formatNs, machineInfo, median } from './support.mjs';

const ROUNDS = 7;
const CALLS = 20_000;
const sockets = { network: { outbound: ['api.example.com:*', '127.0.0.1:5432'], addresses: ['127.0.0.1'] } };
const http = { network: sockets.network };

function perCall(options) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) createWasi(options);
    rounds.push(Number(process.hrtime.bigint() - started) / CALLS);
  }
  return median(rounds);
}

perCall({}); // warm up
console.log(`${describeMachine(machineInfo())}; median of ${ROUNDS} rounds`);
for (const [name, options] of [
  ['createWasi, nothing granted', {}],
  ['createWasi with http grants', { http }],
  ['createWasi with sockets grants', { http, sockets }],
]) {
  console.log(`${name.padEnd(34)} ${formatNs(perCall(options)).padStart(10)}`);
}
