#!/usr/bin/env bash
# retry-storm.sh: retries without limits multiply the load on a backend that is already failing;
# a retry budget and an open circuit stop them. Service B answers 503 to every call; the same
# load goes through Service A three times, each against freshly started services:
#   naive retries   --no-breaker --retry-attempts 3 --retry-budget none: every call tries 3 times;
#   budget only     --profile production --no-breaker: retries limited to 20 % of calls;
#   production      --profile production: the budget, and the circuit opens after 20 calls.
#
# Usage: scripts/retry-storm.sh
#
# Prints a table of the calls that reached B per call made. Exits 1 unless the naive retries sent
# B at least 2.5 times the calls made, the budget alone fewer, and production at most half as
# many calls as were made. Needs bash, curl, python3; builds loadgen with the services.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

REQUESTS=300
CONCURRENCY=10
DOWN='{"mode":"flaky","failure_rate":1}'

# run_case NAME LABEL A_FLAG...: one load run against fresh services; keeps "LABEL|B calls|took"
# for NAME.
run_case() {
  local name=$1 label=$2
  shift 2
  load_case "$name" "$label" "$DOWN" "$REQUESTS" "$CONCURRENCY" "$@"
  local answered seconds calls
  answered=$(json_count "$LOAD_JSON" statuses.500)
  seconds=$(json_count "$LOAD_JSON" seconds)
  ((answered == REQUESTS)) || die "expected $REQUESTS answers of 500 (B down), got: $LOAD_JSON"
  json_read "$B_STATS" api_calls
  calls=${JSON_VALUES[0]}
  say "calls that reached B: $calls for $REQUESTS calls made, in $seconds s"
  save_row "$name" "$label" "$calls" "$seconds"
  stop_services
}

print_table() {
  heading "results: B answers 503 to everything; $REQUESTS calls, $CONCURRENCY at a time"
  printf '| %-16s | %20s | %13s | %8s |\n' "service A" "calls that reached B" "per call made" "took"
  printf '|%s|%s|%s|%s|\n' "------------------" "---------------------:" "--------------:" "---------:"
  local name label calls seconds
  for name in naive budget production; do
    IFS='|' read -r label calls seconds <"$WORK/$name.row"
    printf '| %-16s | %20s | %12sx | %6s s |\n' "$label" "$calls" \
      "$("$PYTHON" -c 'import sys; print(f"{int(sys.argv[1]) / int(sys.argv[2]):.2f}")' "$calls" "$REQUESTS")" \
      "$seconds"
  done
}

check() {
  CONTEXT='the verdict'
  local naive budget production
  naive=$(row_field naive 2)
  budget=$(row_field budget 2)
  production=$(row_field production 2)
  ((naive * 10 >= 25 * REQUESTS)) ||
    die "naive retries sent B only $naive calls for $REQUESTS; expected about 3 each"
  ((budget < naive)) || die "the budget did not cut the retries ($budget calls against $naive)"
  ((production * 2 <= REQUESTS)) ||
    die "production sent B $production calls for $REQUESTS; the budget and the circuit should stop most"
  pass "B took $naive calls from naive retries, $budget with a budget, $production with the budget and the breaker"
}

main() {
  experiment_start "$@"
  run_case naive "naive retries" --no-breaker --retry-attempts 3 --retry-budget none
  run_case budget "budget only" --profile production --no-breaker
  run_case production "production" --profile production
  print_table
  check
}

main "$@"
