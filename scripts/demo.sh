#!/usr/bin/env bash
# Install what the demo needs, build the dashboard's page if it is not built, then run it:
# `wirelab demo` with any arguments given (as root: the lab in network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f dist/dashboard/web/index.html ] || npm run --silent build:web
exec node bin/wirelab.js demo "$@"
