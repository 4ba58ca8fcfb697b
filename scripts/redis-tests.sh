#!/usr/bin/env bash
# redis-tests.sh: the breaker-fleet crate's tests against a real Redis: Debian's redis-server,
# installed when missing, which the tests start themselves on free loopback ports
# (breaker-fleet/tests/redis.rs). `cargo test --workspace` leaves them out (feature
# redis-tests), so that it passes on a machine without Redis; here a missing Redis fails.
#
# Usage: scripts/redis-tests.sh
#
# Exits non-zero when a test fails or tests/redis.rs runs none. Needs cargo; root (apt-get) when
# redis-server is missing.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

main() {
  no_arguments "$@"
  require_tools cargo
  setup_workdir
  require_redis
  heading "cargo test -p breaker-fleet --features redis-tests"
  local log=$WORK/cargo-test.log
  (cd "$ROOT" && cargo test -p breaker-fleet --features redis-tests 2>&1) | tee "$log" ||
    die "a test failed"
  # A gate that no longer opens would leave tests/redis.rs empty and every line above green.
  grep -A2 '^ *Running tests/redis.rs' "$log" | grep -qE '^running [1-9][0-9]* tests?$' ||
    die "tests/redis.rs ran no test: is the redis-tests feature still what gates it?"
}

main "$@"
