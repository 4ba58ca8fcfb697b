#!/usr/bin/env bash
# mutants.sh: mutation testing. cargo-mutants makes small changes to the code (a `<` into `<=`,
# a function body into a constant) and runs the tests against each; a change no test notices
# (a "missed" mutant) is behaviour the tests do not pin down. Exits non-zero if any is missed.
#
#   scripts/mutants.sh                   every mutant of the breaker crate (22 minutes on a
#                                        2-core machine)
#   scripts/mutants.sh --services        every mutant of service-kit and service-b, then service-a
#   scripts/mutants.sh --in-diff REF     only the breaker mutants on lines changed since REF (CI
#                                        runs it with HEAD~1: the latest commit)
#
# Settings and the mutants excluded on purpose, each with its reason: .cargo/mutants.toml.
# Reports go to mutants.out/ (one folder per crate).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The version these scripts and .cargo/mutants.toml are written for.
MUTANTS_VERSION=27.1.0
# A run in CI must stay well inside CI's budget; a diff with more mutants than this many minutes
# allow is refused with a message rather than left to time out.
IN_DIFF_MINUTES=12

die() {
  printf 'mutants.sh: %s\n' "$*" >&2
  exit 1
}

ensure_cargo_mutants() {
  if cargo mutants --version 2>/dev/null | grep -q "$MUTANTS_VERSION"; then
    return
  fi
  printf 'installing cargo-mutants %s (a few minutes)\n' "$MUTANTS_VERSION"
  cargo install cargo-mutants --locked --version "$MUTANTS_VERSION"
}

# score DIR: prints the counts cargo-mutants wrote to DIR/mutants.out/outcomes.json and the
# mutants it missed.
score() {
  python3 - "$1/mutants.out/outcomes.json" <<'PY'
import json, sys
outcomes = json.load(open(sys.argv[1]))
counts = {k: outcomes.get(k, 0) for k in ("caught", "missed", "unviable", "timeout", "success")}
print("  {total} mutants: {caught} caught, {missed} missed, {timeout} timed out, "
      "{unviable} unviable".format(total=outcomes.get("total_mutants", 0), **counts))
for outcome in outcomes["outcomes"]:
    scenario = outcome["scenario"]
    if isinstance(scenario, dict) and outcome["summary"] in ("MissedMutant", "Timeout"):
        print("    {}: {}".format(outcome["summary"], scenario["Mutant"]["name"]))
PY
}

# mutate PACKAGE [ARGS...]: runs cargo-mutants on PACKAGE, prints its score, and returns
# cargo-mutants' exit status (0: every mutant caught or unviable).
mutate() {
  local package=$1
  shift
  local out="mutants.out/$package"
  mkdir -p "$out"
  local status=0
  cargo mutants --package "$package" --output "$out" "$@" || status=$?
  printf '\n%s:\n' "$package"
  if [[ -f $out/mutants.out/outcomes.json ]]; then
    score "$out"
  fi
  return "$status"
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
  count=$(cargo mutants --package trip-breaker --in-diff "$DIFF" --list | wc -l)
  printf '%s mutants on the lines changed since %s\n' "$count" "$base"
  # About 15 s a mutant here, most of it relinking the test binaries.
  if ((count * 15 > IN_DIFF_MINUTES * 60)); then
    die "$count mutants would take longer than $IN_DIFF_MINUTES minutes: run scripts/mutants.sh in full before landing such a change"
  fi
  mutate trip-breaker --in-diff "$DIFF"
}

main() {
  case ${1:-} in
    "")
      ensure_cargo_mutants
      mutate trip-breaker
      ;;
    --in-diff)
      [[ $# -eq 2 ]] || die "usage: $0 --in-diff REF"
      in_diff "$2"
      ;;
    --services)
      ensure_cargo_mutants
      local status=0
      mutate service-kit || status=$?
      mutate service-b || status=$?
      mutate service-a || status=$?
      return "$status"
      ;;
    *)
      sed -n '2,9p' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
