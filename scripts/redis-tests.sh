#!/usr/bin/env bash
# redis-tests.sh: the breaker-fleet crate's tests against a real Redis: Debian's redis-server,
# installed when missing, which the tests start themselves on free loopback ports
# (breaker-fleet/tests/redis.rs). `cargo test --workspace` leaves them out (feature
# redis-tests), so that it passes on a machine without Redis; here a missing Redis fails.
#
# Usage: scripts/redis-tests.sh
#
# Exits non-zero when a test fails. Needs cargo; root (apt-get) when redis-server is missing.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

main() {
  case ${1:-} in
    -h | --help) usage && exit 0 ;;
    '') ;;
    *) printf 'unknown option: %s\n\n' "$1" >&2 && usage >&2 && exit 2 ;;
  esac
  require_tools cargo
  setup_workdir
  heading "redis-server"
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server
  fi
  say "$(redis-server --version)"
  heading "cargo test -p breaker-fleet --features redis-tests"
  (cd "$ROOT" && cargo test -p breaker-fleet --features redis-tests) || die "a test failed"
}

main "$@"
