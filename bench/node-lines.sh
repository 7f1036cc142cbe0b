#!/usr/bin/env bash
# The engine, host and kv benchmarks on each supported Node.js line in one session, one line
# after another (binaries from the npm registry, scripts/node-line.sh), then one table with the
# lines side by side: `node bench/node-lines.mjs bench/.tmp/lines`. Needs dist/ and the fixtures
# (`npm run build && npm run fixtures`). Usage: bench/node-lines.sh [VERSION...]
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22.23.5 "$(node_modules/.bin/node -p process.versions.node)" 26.12.1)
out=bench/.tmp/lines
mkdir -p "$out"
for v in "${versions[@]}"; do
  bin="$(bash scripts/node-line.sh "$v")"
  echo "node-lines: Node.js $v" >&2
  "$bin/node" bench/engine.mjs --json >"$out/$v-engine.json"
  "$bin/node" bench/host/host.mjs --json >"$out/$v-host.json"
  "$bin/node" bench/kv/kv.mjs --json >"$out/$v-kv.json"
done
