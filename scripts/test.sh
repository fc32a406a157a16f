#!/usr/bin/env bash
# The whole test suite, in DESIGN.md's order: type check, lint, unit tests, integration tests,
# browser tests (the dashboard page is built before the integration tests, which open it too).
# Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n== %s\n' "$*" >&2; }

step "type check"
npx tsc --noEmit
npx tsc --noEmit -p src/dashboard/web

step "lint"
npx eslint --max-warnings 0 .

run_tests() {
  local dir=$1
  mapfile -t files < <(find "$dir" -name '*.test.ts' | sort)
  if [ ${#files[@]} -eq 0 ]; then echo "no tests in $dir" >&2; return 0; fi
  node --import tsx --test --test-reporter=spec --test-concurrency="${TEST_CONCURRENCY:-2}" "${files[@]}"
}

step "unit tests"
run_tests test/unit

# the page first: the demo's integration test opens it in the browser
step "build the dashboard page"
npm run --silent build:web

step "integration tests"
run_tests test/integration

step "browser tests"
run_tests test/browser
