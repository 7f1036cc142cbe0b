#!/usr/bin/env bash
# Sets up a checkout on a fresh machine: the Debian tools the fixture components are built
# with (clang, lld, wasi-libc), then the npm packages (which also build dist/ via `prepare`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-system-deps.sh
# `npm install` rather than `npm ci`: npm 11 here omits other platforms' optional packages from the
# lock file, which `npm ci` then refuses as out of sync.
npm install --no-audit --no-fund
