#!/usr/bin/env bash
# load.sh: the article's load experiment, with oha: Service A with and without its breaker,
# first while B fails every call, then while B is healthy, side by side.
#
# Usage: scripts/load.sh
#
# Four runs, each against freshly started services so that each begins Closed:
#   failing B:  oha -n 100   -c 20 http://A/call?fail=true    A with the breaker | --no-breaker
#   healthy B:  oha -n 20000 -c 50 http://A/call              A with the breaker | --no-breaker
# B fails after the article's 2 s; A runs with its defaults (3 failures, 10 s, 3 s timeout).
# The table shows total time, requests/s, p50/p95/p99, status codes and how many calls reached
# B (its /stats before and after; the table is built by load_report.py). Installs oha with cargo
# when missing. Exits 1 if the breaker did not keep calls away from a failing B or a healthy run
# saw errors, 2 on an argument. Needs bash, cargo, curl, python3.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# No run may last longer than this (the slowest, failing without a breaker, takes ~10 s).
OHA_MAX_SECONDS=300
# Per request: longer than A's 3 s timeout, so every request gets A's own answer.
OHA_REQUEST_TIMEOUT=30s
FAIL_DELAY=2s

# run_case NAME LABEL PATH REQUESTS CONCURRENCY [A_FLAG...]: one oha run against fresh services.
# Leaves oha's JSON in $WORK/NAME.json and B's /api count before/after in $WORK/NAME.calls.
run_case() {
  local name=$1 label=$2 path=$3 requests=$4 concurrency=$5
  shift 5
  heading "$label"
  start_service service-b "$WORK/$name.service-b.log" "$BIN_DIR/service-b" --fail-delay "$FAIL_DELAY"
  local b=http://$STARTED_ADDR
  wait_healthy service-b "$b/health"
  start_service service-a "$WORK/$name.service-a.log" "$BIN_DIR/service-a" --service-b-url "$b" "$@"
  local a=http://$STARTED_ADDR
  wait_healthy service-a "$a/health"

  b_api_calls "$b"
  local before=$API_CALLS
  local cmd=(oha -n "$requests" -c "$concurrency" --no-tui -t "$OHA_REQUEST_TIMEOUT" "${OHA_JSON[@]}" "$a$path")
  printf "%s\$ %s '%s'%s\n" "$C_CYAN" "${cmd[*]:0:${#cmd[@]}-1}" "${cmd[-1]}" "$C_RESET"
  timeout "$OHA_MAX_SECONDS" "${cmd[@]}" >"$WORK/$name.json" ||
    die "oha failed or ran over ${OHA_MAX_SECONDS}s (exit $?)"
  b_api_calls "$b"
  printf '%s %s\n' "$before" "$API_CALLS" >"$WORK/$name.calls"
  say "calls that reached B: $((API_CALLS - before))"
  stop_services
}

# report: the table, then the checks that the experiment showed what it should
# (load_report.py); returns 1 when it did not.
report() {
  heading "results (fresh services for every column; B fails after $FAIL_DELAY; A defaults)"
  "$PYTHON" "$SCRIPTS/load_report.py" "$WORK"
}

main() {
  no_arguments "$@"
  require_tools cargo curl python3 timeout
  resolve_python
  setup_workdir
  require_oha
  build_binaries
  run_case fail-breaker "failing B, A with the breaker" '/call?fail=true' 100 20
  run_case fail-none "failing B, A without a breaker" '/call?fail=true' 100 20 --no-breaker
  run_case ok-breaker "healthy B, A with the breaker" /call 20000 50
  run_case ok-none "healthy B, A without a breaker" /call 20000 50 --no-breaker
  CONTEXT='the results'
  report || die "the experiment did not show what the article describes (see above)"
  printf '\n%sload experiment done%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
