#!/usr/bin/env bash
# demo.sh: walks through the circuit-breaker article against the Rust services, checking every
# step; it is also CI's end-to-end test.
#
# Usage: scripts/demo.sh [--fast]
#   (default)  the article's timings: failing calls take 2 s, the circuit stays Open for 10 s.
#   --fast     CI timings: B fails after 200 ms, A gives up on B after 1 s, Open lasts 2 s.
#
# Builds service-a and service-b (release), starts them on free loopback ports, then:
#   1. a healthy call;                       5. a failed half-open probe reopens the circuit;
#   2. three failing calls open the circuit; 6. after another countdown, a good probe closes it;
#   3. the OPEN message comes back at once;  7. with the circuit Open again, /call-fallback
#   4. a countdown to HALF_OPEN;                answers the last good body; A's state changes.
# Exits 1 naming the step if anything does not behave as described. Needs bash, curl, python3.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# A rejection must come back faster than this to count as "at once".
FAST_REJECTION_MS=200
OPEN_PREFIX='Circuit "call_service_b" OPEN until '
# The state changes this walk-through causes, in order, as A logs them.
WANTED_TRANSITIONS='CLOSED -> OPEN, OPEN -> HALF_OPEN, HALF_OPEN -> OPEN, OPEN -> HALF_OPEN, HALF_OPEN -> CLOSED, CLOSED -> OPEN'

parse_args() {
  FAIL_DELAY=2s FAIL_DELAY_MS=2000 REQUEST_TIMEOUT=3s RECOVERY_TIMEOUT=10s RECOVERY_SECONDS=10
  while (($#)); do
    case $1 in
      --fast) FAIL_DELAY=200ms FAIL_DELAY_MS=200 REQUEST_TIMEOUT=1s RECOVERY_TIMEOUT=2s RECOVERY_SECONDS=2 ;;
      -h | --help) usage && exit 0 ;;
      *) printf 'unknown option: %s\n\n' "$1" >&2 && usage >&2 && exit 2 ;;
    esac
    shift
  done
}

start_services() {
  heading "start the services on free loopback ports"
  start_service service-b "$WORK/service-b.log" \
    "$BIN_DIR/service-b" --fail-delay "$FAIL_DELAY"
  B=http://$STARTED_ADDR
  wait_healthy service-b "$B/health"
  start_service service-a "$WORK/service-a.log" \
    "$BIN_DIR/service-a" --service-b-url "$B" --request-timeout "$REQUEST_TIMEOUT" \
    --failure-threshold 3 --recovery-timeout "$RECOVERY_TIMEOUT"
  A=http://$STARTED_ADDR
  wait_healthy service-a "$A/health"
  say "service B: $B  (fail delay $FAIL_DELAY)"
  say "service A: $A  (request timeout $REQUEST_TIMEOUT, 3 failures open the circuit for $RECOVERY_TIMEOUT)"
}

# call PATH: GET on A, printed as the command a reader could type, then status, time and body.
call() {
  fetch GET "$A$1"
  printf "%s\$ curl -s '%s'%s\n" "$C_CYAN" "$A$1" "$C_RESET"
  printf '%sHTTP %s in %d ms%s\n%s\n' "$C_DIM" "$STATUS" "$MILLIS" "$C_RESET" "$BODY"
}

# call_quietly PATH: the same request, on one line.
call_quietly() {
  fetch GET "$A$1"
  printf "%s\$ curl -s '%s'%s  -> HTTP %s in %d ms\n" "$C_CYAN" "$A$1" "$C_RESET" "$STATUS" "$MILLIS"
}

expect_status() {
  [[ $STATUS == "$1" ]] || die "expected HTTP $1, got $STATUS: $BODY"
}

# expect_field PATH VALUE: the last body has VALUE at PATH.
expect_field() {
  json_read "$BODY" "$1"
  [[ ${JSON_VALUES[0]} == "$2" ]] || die "expected $1 = $2, got ${JSON_VALUES[0]} in: $BODY"
}

expect_at_once() {
  ((MILLIS < FAST_REJECTION_MS)) || die "expected an answer within $FAST_REJECTION_MS ms, took $MILLIS ms"
}

# expect_waited_for_b: the call took at least B's fail delay (a little slack for clock rounding),
# which shows that it reached B.
expect_waited_for_b() {
  ((MILLIS >= FAIL_DELAY_MS * 9 / 10)) ||
    die "expected the call to wait for B's ${FAIL_DELAY} fail delay, took $MILLIS ms"
}

# expect_b_calls N WHY: B has received exactly N /api calls, and says so.
expect_b_calls() {
  b_api_calls "$B"
  printf '%sservice B /stats: api_calls = %s%s  (%s)\n' "$C_BOLD" "$API_CALLS" "$C_RESET" "$2"
  [[ $API_CALLS == "$1" ]] || die "expected B to have received $1 /api calls, it received $API_CALLS"
}

# breaker: reads A's /breaker into BREAKER_STATE, BREAKER_FAILURES and BREAKER_REMAINING.
breaker() {
  fetch GET "$A/breaker"
  expect_status 200
  json_read "$BODY" state failure_count remaining_seconds
  BREAKER_STATE=${JSON_VALUES[0]} BREAKER_FAILURES=${JSON_VALUES[1]} BREAKER_REMAINING=${JSON_VALUES[2]}
}

expect_breaker() {
  breaker
  say "GET /breaker: state=$BREAKER_STATE failure_count=$BREAKER_FAILURES remaining_seconds=$BREAKER_REMAINING"
  [[ $BREAKER_STATE == "$1" ]] || die "expected /breaker state $1, got $BREAKER_STATE"
  [[ $BREAKER_FAILURES == "$2" ]] || die "expected /breaker failure_count $2, got $BREAKER_FAILURES"
}

# expect_rejected N: A's /breaker counts N rejected calls so far.
expect_rejected() {
  fetch GET "$A/breaker"
  expect_status 200
  json_read "$BODY" calls.rejected
  say "GET /breaker: calls.rejected=${JSON_VALUES[0]}"
  [[ ${JSON_VALUES[0]} == "$1" ]] || die "expected /breaker calls.rejected $1, got ${JSON_VALUES[0]}"
}

expect_open_message() {
  local failures=$1 message
  expect_status 500
  json_read "$BODY" status message
  [[ ${JSON_VALUES[0]} == error ]] || die "expected status error in: $BODY"
  message=${JSON_VALUES[1]}
  [[ $message == "$OPEN_PREFIX"* ]] || die "expected the message to start with '$OPEN_PREFIX'"
  [[ $message == *"($failures failures, "* ]] || die "expected '($failures failures, ' in the message"
  [[ $message == *"(last_failure: "*500* ]] || die "expected the last failure (B's 500) in the message"
  expect_at_once
}

# expect_b_error: a 500 from A that passes on B's failure, not a rejection by the breaker.
expect_b_error() {
  expect_status 500
  json_read "$BODY" status message
  [[ ${JSON_VALUES[0]} == error ]] || die "expected status error in: $BODY"
  [[ ${JSON_VALUES[1]} == *500* && ${JSON_VALUES[1]} != Circuit* ]] ||
    die "expected B's 500 in the message, got: ${JSON_VALUES[1]}"
  expect_waited_for_b
}

step_healthy_call() {
  heading "1. a healthy call goes through"
  call /call
  expect_status 200
  expect_field status success
  expect_field data "Service B: Success"
  expect_b_calls 1 "the call reached B"
  pass "200 success"
}

step_three_failures() {
  heading "2. three failing calls, each waiting for B's $FAIL_DELAY error, open the circuit"
  for _ in 1 2 3; do
    call '/call?fail=true'
    expect_b_error
  done
  expect_b_calls 4 "all three reached B"
  expect_breaker open 3
  pass "three 500s from B; the circuit is OPEN"
}

step_open_rejects_at_once() {
  heading "3. while OPEN, calls are rejected at once without reaching B"
  call '/call?fail=true'
  expect_open_message 3
  for _ in 1 2 3 4; do
    call_quietly /call
    expect_open_message 3
  done
  expect_b_calls 4 "unchanged: five calls rejected, none reached B"
  expect_rejected 5
  pass "the OPEN message came back in under $FAST_REJECTION_MS ms"
}

# countdown_to_half_open: prints /breaker's remaining seconds each second until HALF_OPEN.
countdown_to_half_open() {
  say "polling GET $A/breaker each second:"
  local deadline=$((SECONDS + RECOVERY_SECONDS + 5))
  while :; do
    breaker
    if [[ $BREAKER_REMAINING == null ]]; then
      printf '  %-9s\n' "$BREAKER_STATE"
    else
      printf '  %-9s %4.1f s remaining\n' "$BREAKER_STATE" "$BREAKER_REMAINING"
    fi
    [[ $BREAKER_STATE == half_open ]] && break
    [[ $BREAKER_STATE == open ]] || die "expected state open or half_open, got $BREAKER_STATE"
    ((SECONDS < deadline)) || die "still $BREAKER_STATE after polling for $((RECOVERY_SECONDS + 5))s"
    sleep 1
  done
  pass "HALF_OPEN: the next call is a probe"
}

step_countdown() {
  heading "4. the circuit stays OPEN for the ${RECOVERY_TIMEOUT} recovery timeout"
  countdown_to_half_open
}

step_failed_probe_reopens() {
  heading "5. a failing probe opens the circuit again"
  b_api_calls "$B"
  local before=$API_CALLS
  call '/call?fail=true'
  expect_b_error
  expect_b_calls $((before + 1)) "the probe reached B"
  call /call
  expect_open_message 4
  expect_b_calls $((before + 1)) "unchanged: the call after the failed probe was rejected"
  expect_breaker open 4
  pass "OPEN again, now with 4 failures"
}

step_successful_probe_closes() {
  heading "6. after another ${RECOVERY_TIMEOUT}, a successful probe closes the circuit"
  countdown_to_half_open
  b_api_calls "$B"
  local before=$API_CALLS
  call /call
  expect_status 200
  expect_field status success
  expect_field data "Service B: Success"
  expect_b_calls $((before + 1)) "the probe reached B"
  expect_breaker closed 0
  pass "CLOSED, failure count reset"
}

step_fallback_serves_last_good_body() {
  heading "7. with the circuit OPEN, /call-fallback answers the last good body"
  for _ in 1 2 3; do
    call_quietly '/call?fail=true'
    expect_b_error
  done
  expect_breaker open 3
  b_api_calls "$B"
  local before=$API_CALLS
  call '/call-fallback?fail=true'
  expect_status 200
  expect_field status degraded
  expect_field data "Service B: Success"
  expect_at_once
  expect_b_calls "$before" "unchanged: the fallback did not call B"
  pass "200 degraded with the last good body"
}

# show_state_changes: A's log lines for each transition, which must include, in order, the
# transitions this walk-through caused.
show_state_changes() {
  heading "A's log: the state changes"
  local lines
  lines=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/service-a.log" | grep 'circuit call_service_b: ' || true)
  [[ -n $lines ]] && say "$lines"
  "$PYTHON" - "$lines" "$WANTED_TRANSITIONS" <<'PY' || die "A's log lacks a state change; wanted, in order: $WANTED_TRANSITIONS"
import sys
wanted = sys.argv[2].split(", ")
lines = iter(sys.argv[1].splitlines())
# Each wanted transition must appear after the previous one.
missing = [w for w in wanted if not any(f": {w} " in f"{line} " for line in lines)]
sys.exit(1 if missing else 0)
PY
  pass "every transition was logged"
}

main() {
  parse_args "$@"
  require_tools cargo curl python3
  resolve_python
  setup_workdir
  build_binaries
  start_services
  step_healthy_call
  step_three_failures
  step_open_rejects_at_once
  step_countdown
  step_failed_probe_reopens
  step_successful_probe_closes
  step_fallback_serves_last_good_body
  show_state_changes
  printf '\n%sdemo passed: the breaker behaved as the article describes%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
