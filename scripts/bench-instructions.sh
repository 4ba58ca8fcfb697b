#!/usr/bin/env bash
# bench-instructions.sh: what one circuit-breaker decision costs in instructions, the breaker's
# hot paths beside its peers' (failsafe, recloser, WyattAu's breaker, tower-resilience), counted
# by callgrind through gungraun (breaker/benches/instructions.rs), so that a change of a few
# percent shows whatever the machine's load. Prints the table with each row's ratio to the best
# peer of its kind, then fails when one of the breaker's own rows has grown by more than
# TOLERANCE_PERCENT over the committed baseline.
#
#   scripts/bench-instructions.sh                    the table and the check
#   scripts/bench-instructions.sh --update-baseline  the table, then the baseline rewritten from it
#                                                    (commit it with the reason the counts moved)
#
# Installs Debian's valgrind and gungraun's runner (the version of the gungraun crate, which it
# must match) when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/cargo-install.sh
source scripts/cargo-install.sh

BASELINE=breaker/benches/instructions-baseline.json
TOLERANCE_PERCENT=2

die() {
  printf 'bench-instructions.sh: %s\n' "$*" >&2
  exit 1
}

# gungraun_version: the exact version of the gungraun crate the bench is built with.
gungraun_version() {
  sed -n 's/^gungraun = "=\([0-9.]*\)"$/\1/p' breaker/Cargo.toml
}

ensure_valgrind() {
  command -v valgrind >/dev/null && return
  ((EUID == 0)) || die "valgrind is not installed; run: apt-get install valgrind (as root)"
  printf 'installing valgrind\n'
  apt-get -qq -o DPkg::Lock::Timeout=120 install -y --no-install-recommends valgrind >/dev/null ||
    { apt-get -qq update && apt-get -qq install -y --no-install-recommends valgrind >/dev/null; } ||
    die "apt-get could not install valgrind"
}

main() {
  local update=''
  case ${1:-} in
    "") ;;
    --update-baseline) update=--update-baseline ;;
    *)
      sed -n '2,12p' "$0" >&2
      exit 2
      ;;
  esac
  local version
  version=$(gungraun_version)
  [[ -n $version ]] || die "no exact gungraun version (gungraun = \"=X.Y.Z\") in breaker/Cargo.toml"
  ensure_valgrind
  ensure_cargo_tool gungraun-runner "$version" gungraun-runner
  SUMMARY=$(mktemp)
  trap 'rm -f "$SUMMARY"' EXIT
  cargo bench -p trip-breaker --bench instructions -- --output-format=json >"$SUMMARY" ||
    die "the benchmarks failed (run: cargo bench -p trip-breaker --bench instructions)"
  python3 scripts/bench_instructions_report.py "$SUMMARY" "$BASELINE" "$TOLERANCE_PERCENT" $update
}

main "$@"
