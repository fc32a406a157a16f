#!/usr/bin/env bash
# Install what the demo needs, then run it: `wirelab demo` with any arguments given.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/wirelab.js demo "$@"
