#!/usr/bin/env bash
# The README's test command: sets up as scripts/setup.sh does, then lint, typecheck, unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
biome check src test scripts bench
node scripts/check-layers.mjs
tsc -p .
# The dashboard's front end runs in a browser: its own config (DOM types, Preact JSX).
tsc -p src/ui/web
# Integration files each start their own daemon (own roots, socket, bridge), so they run side by side.
node --test --test-concurrency="${WHARF_TEST_CONCURRENCY:-3}" --test-timeout=600000 \
  'src/**/*.test.ts' 'test/**/*.test.ts' "$@"
