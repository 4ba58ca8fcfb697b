#!/usr/bin/env bash
# mutants.sh: mutation testing. cargo-mutants makes small changes to the code (a `<` into `<=`,
# a function body into a constant) and runs the tests against each; a change no test notices
# (a "missed" mutant) is behaviour the tests do not pin down. Exits non-zero if any is missed.
#
#   scripts/mutants.sh                   every mutant of the breaker crate, every feature on
#                                        (an hour or more on a 2-core machine)
#   scripts/mutants.sh --shard K/N       the K-th of N shares of them (0-based: 0/3, 1/3, 2/3),
#                                        each reported in mutants.out/trip-breaker-K-of-N/
#   scripts/mutants.sh --services        every mutant of service-kit and service-b, then service-a
#   scripts/mutants.sh --fleet           every mutant of breaker-fleet, its tests against a real
#                                        Redis on (feature redis-tests; Debian's redis-server,
#                                        installed when missing, which the tests start themselves
#                                        on free loopback ports, as in redis-tests.sh)
#   scripts/mutants.sh --in-diff REF     only the breaker mutants on lines changed since REF (CI
#                                        runs it with HEAD~1: the latest commit)
#
# The breaker is mutated with every feature on (`serde` and `tower`), so that the code only a
# feature builds is mutated together with the tests only that feature builds.
#
# Settings and the mutants excluded on purpose, each with its reason: .cargo/mutants.toml.
# Reports go to mutants.out/ (one folder per crate).
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
# What die() names as the step that failed.
CONTEXT="cargo mutants"

# The version these scripts and .cargo/mutants.toml are written for.
MUTANTS_VERSION=27.1.0
# A run in CI must stay well inside CI's budget; a diff with more mutants than this many minutes
# allow is refused with a message rather than left to time out.
IN_DIFF_MINUTES=12

ensure_cargo_mutants() {
  ensure_cargo_tool cargo-mutants "$MUTANTS_VERSION" cargo mutants
}

# score DIR: prints the counts cargo-mutants wrote to DIR/mutants.out/outcomes.json and the
# mutants it missed.
score() {
  python3 "$ROOT/scripts/mutants_score.py" "$1/mutants.out/outcomes.json"
}

# The breaker's features, all turned on when it is mutated.
BREAKER_FEATURES=(--all-features)
# The fleet's Redis tests, and a test timeout above the time they take to fail: a test that a
# mutant breaks often fails only when a bounded wait gives up (20 s, PATIENCE in
# breaker-fleet/tests/support), two tests at a time on a 2-core machine, so a mutant that breaks
# every one of the eleven fails after about two minutes. cargo-mutants' own timeout (20 s at
# least) would report it as a timeout rather than a catch.
FLEET_ARGS=(--features redis-tests --minimum-test-timeout 180)

# mutate PACKAGE OUT [ARGS...]: runs cargo-mutants on PACKAGE with its report in OUT, prints its
# score, and returns cargo-mutants' exit status (0: every mutant caught or unviable). A report
# left by an earlier run is removed first, so that a run that finds no mutant prints no score.
mutate() {
  local package=$1 out=$2
  shift 2
  rm -rf "$out/mutants.out"
  mkdir -p "$out"
  local status=0
  cargo mutants --package "$package" --output "$out" "$@" || status=$?
  printf '\n%s:\n' "$package"
  if [[ -f $out/mutants.out/outcomes.json ]]; then
    score "$out"
  else
    printf '  no mutants tested\n'
  fi
  return "$status"
}

# mutate_breaker OUT [ARGS...]: the breaker's mutants, every feature on.
mutate_breaker() {
  local out=$1
  shift
  mutate trip-breaker "$out" "${BREAKER_FEATURES[@]}" "$@"
}

in_diff() {
  local base=$1
  if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    printf 'no commit %s to diff against (a clone one commit deep): no mutants to test\n' "$base"
    return
  fi
  DIFF=$(mktemp)
  trap 'rm -f "$DIFF"' EXIT
  git diff "$base" -- breaker/src >"$DIFF"
  if [[ ! -s $DIFF ]]; then
    printf 'no change to breaker/src since %s: no mutants to test\n' "$base"
    return
  fi
  ensure_cargo_mutants
  local count
  count=$(cargo mutants --package trip-breaker "${BREAKER_FEATURES[@]}" --in-diff "$DIFF" --list | wc -l)
  printf '%s mutants on the lines changed since %s\n' "$count" "$base"
  if ((count == 0)); then
    return
  fi
  # About 15 s a mutant here, most of it relinking the test binaries.
  if ((count * 15 > IN_DIFF_MINUTES * 60)); then
    die "$count mutants would take longer than $IN_DIFF_MINUTES minutes: run scripts/mutants.sh in full before landing such a change"
  fi
  mutate_breaker mutants.out/trip-breaker --in-diff "$DIFF"
}

main() {
  case ${1:-} in
    "")
      ensure_cargo_mutants
      mutate_breaker mutants.out/trip-breaker
      ;;
    --shard)
      [[ $# -eq 2 && $2 =~ ^[0-9]+/[0-9]+$ ]] || usage_error "--shard takes K/N"
      ensure_cargo_mutants
      mutate_breaker "mutants.out/trip-breaker-${2%/*}-of-${2#*/}" --shard "$2"
      ;;
    --in-diff)
      [[ $# -eq 2 ]] || usage_error "--in-diff takes a commit"
      in_diff "$2"
      ;;
    --services)
      ensure_cargo_mutants
      local status=0
      mutate service-kit mutants.out/service-kit || status=$?
      mutate service-b mutants.out/service-b || status=$?
      mutate service-a mutants.out/service-a || status=$?
      return "$status"
      ;;
    --fleet)
      [[ $# -eq 1 ]] || usage_error "--fleet takes no value"
      ensure_cargo_mutants
      setup_workdir
      require_redis
      mutate breaker-fleet mutants.out/breaker-fleet "${FLEET_ARGS[@]}"
      ;;
    -h | --help) usage ;;
    *) usage_error "unknown argument: $1" ;;
  esac
}

main "$@"
