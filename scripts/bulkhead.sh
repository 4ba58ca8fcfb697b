#!/usr/bin/env bash
# bulkhead.sh: a bulkhead bounds what a slow backend can hold of Service A. Service B takes 2 s to
# answer; 100 calls arrive at Service A at once, twice, each time against fresh services:
#   no bulkhead   the article profile: every call goes to B and waits;
#   production    the production profile: at most 32 calls in flight to B, the rest answered 503
#                 at once.
# Both runs use --request-timeout 3s (both profiles' default, said here because the table depends
# on it): the calls B serves in 2 s succeed, so the table shows the bulkhead alone.
#
# Usage: scripts/bulkhead.sh
#
# Prints B's peak of calls in flight and how fast each kind of answer came. Exits 1 unless,
# without the bulkhead, B held at least 90 calls at once, with it at most 32, and the calls
# refused were answered in less than B's 2 s. Needs bash, curl, python3; builds loadgen too.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CALLS=100
SLOW='{"mode":"slow","delay":"2s"}'
SLOW_MS=2000

# run_case NAME LABEL A_FLAG...: CALLS calls at once against fresh services; keeps
# "LABEL|B peak|200s|200 p50|503s|503 p50|503 max" for NAME.
run_case() {
  local name=$1 label=$2
  shift 2
  load_case "$name" "$label" "$SLOW" "$CALLS" "$CALLS" --request-timeout 3s "$@"
  local peak ok ok_p50 refused refused_p50 refused_max
  ok=$(json_count "$LOAD_JSON" statuses.200)
  ok_p50=$(json_count "$LOAD_JSON" by_status.200.p50)
  refused=$(json_count "$LOAD_JSON" statuses.503)
  refused_p50=$(json_count "$LOAD_JSON" by_status.503.p50)
  refused_max=$(json_count "$LOAD_JSON" by_status.503.max)
  ((ok + refused == CALLS)) || die "expected only 200 and 503 answers, got: $LOAD_JSON"
  json_read "$B_STATS" max_in_flight
  peak=${JSON_VALUES[0]}
  say "B's peak of calls in flight: $peak; answered 200: $ok (p50 $ok_p50 ms); 503: $refused (p50 $refused_p50 ms, max $refused_max ms)"
  save_row "$name" "$label" "$peak" "$ok" "$ok_p50" "$refused" "$refused_p50" "$refused_max"
  stop_services
}

print_table() {
  heading "results: B answers in 2 s; $CALLS calls at once"
  printf '| %-13s | %18s | %12s | %12s | %12s | %22s |\n' "service A" "B's peak in flight" \
    "answered 200" "200 p50" "answered 503" "503 p50 / max"
  printf '|%s|%s|%s|%s|%s|%s|\n' "---------------" "-------------------:" "-------------:" \
    "-------------:" "-------------:" "-----------------------:"
  local name label peak ok ok_p50 refused refused_p50 refused_max
  for name in open production; do
    IFS='|' read -r label peak ok ok_p50 refused refused_p50 refused_max <"$WORK/$name.row"
    local refused_times="-"
    ((refused > 0)) && refused_times="$refused_p50 / $refused_max ms"
    printf '| %-13s | %18s | %12s | %9s ms | %12s | %22s |\n' "$label" "$peak" "$ok" "$ok_p50" \
      "$refused" "$refused_times"
  done
}

check() {
  CONTEXT='the verdict'
  local open_peak production_peak refused refused_max
  open_peak=$(row_field open 2)
  production_peak=$(row_field production 2)
  refused=$(row_field production 5)
  refused_max=$(row_field production 7)
  ((open_peak >= 90)) || die "without a bulkhead B held only $open_peak calls at once; expected about $CALLS"
  ((production_peak <= 32)) || die "with the bulkhead B held $production_peak calls at once; the limit is 32"
  ((refused >= CALLS - 32)) || die "the bulkhead refused only $refused calls"
  # Whole milliseconds for bash: the slowest refusal came before B's first answer could.
  ((${refused_max%.*} < SLOW_MS)) ||
    die "the slowest refusal took $refused_max ms, no faster than B's $SLOW_MS ms"
  pass "B held $open_peak calls without the bulkhead, $production_peak with it; $refused refused within $refused_max ms"
}

main() {
  experiment_start "$@"
  run_case open "no bulkhead"
  run_case production "production" --profile production
  print_table
  check
}

main "$@"
