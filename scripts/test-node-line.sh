#!/usr/bin/env bash
# Runs the test suite on another Node.js line (scripts/node-line.sh), against the node_modules
# and dist/ that `npm run setup` made. The npm scripts themselves always use the pinned Node.js;
# this is how CI covers the other supported lines.
# Usage: scripts/test-node-line.sh VERSION [vitest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(bash scripts/node-line.sh "$1")"
shift
# Tests start children with `node` from PATH as well as with process.execPath: both get this line.
export PATH="$bin:$PATH"
echo "test-node-line: Node.js $(node --version), vitest $*"
node node_modules/vitest/vitest.mjs run "$@"
