#!/usr/bin/env bash
# demo.sh: walks through the circuit-breaker article against the Rust services, checking every
# step; it is also CI's end-to-end test.
#
# Usage: scripts/demo.sh [--fast] [--examples]
#   (default)   the article's timings: failing calls take 2 s, the circuit stays Open for 10 s.
#   --fast      CI timings: B fails after 200 ms, A gives up on B after 1 s, Open lasts 2 s.
#   --examples  the same walk through the one-file examples (article_b, article_a) instead of
#               the binaries: steps 1 to 6, checked by the answers' bodies and times and by A's
#               log (the examples have no /stats, /breaker or /call-fallback).
#
# Builds service-a and service-b (release), starts them on free loopback ports, then:
#   1. a healthy call;                       5. while a half-open probe is in flight, another
#   2. three failing calls open the circuit;    call is rejected; the failed probe reopens it;
#   3. the OPEN message comes back at once;  6. after another countdown, a good probe closes it;
#   4. a countdown to HALF_OPEN;             7. with the circuit Open again, /call-fallback
#                                               answers the last good body; A's state changes.
# Exits 1 naming the step if anything does not behave as described. Needs bash, curl, python3.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# A rejection must come back faster than this to count as "at once".
FAST_REJECTION_MS=200
OPEN_PREFIX='Circuit "call_service_b" OPEN until '
HALF_OPEN_PREFIX='Circuit "call_service_b" HALF_OPEN: 1 probe(s) already testing the backend, call rejected'
# The state changes this walk-through causes, in order, as A logs them.
WANTED_TRANSITIONS='CLOSED -> OPEN, OPEN -> HALF_OPEN, HALF_OPEN -> OPEN, OPEN -> HALF_OPEN, HALF_OPEN -> CLOSED, CLOSED -> OPEN'

parse_args() {
  FAIL_DELAY=2s FAIL_DELAY_MS=2000 REQUEST_TIMEOUT=3s RECOVERY_TIMEOUT=10s RECOVERY_SECONDS=10
  EXAMPLES=false
  while (($#)); do
    case $1 in
      --fast) FAIL_DELAY=200ms FAIL_DELAY_MS=200 REQUEST_TIMEOUT=1s RECOVERY_TIMEOUT=2s RECOVERY_SECONDS=2 ;;
      --examples) EXAMPLES=true ;;
      -h | --help) usage && exit 0 ;;
      *) usage_error "unknown argument: $1" ;;
    esac
    shift
  done
}

# build_examples: the two one-file examples, in the profile the binaries use; sets BIN_DIR.
build_examples() {
  local build=(cargo build --release -p service-b --example article_b -p service-a --example article_a)
  heading "build"
  say "\$ ${build[*]}"
  (cd "$ROOT" && "${build[@]}") || die "cargo build failed"
  BIN_DIR=$(target_dir)/release/examples
}

# start_examples: as start_services, with the examples' flags. Their "listening" line is logged
# once the socket is bound, so no health check is needed (and they have no /health).
start_examples() {
  heading "start the examples on free loopback ports"
  start_service article_b "$WORK/service-b.log" "$BIN_DIR/article_b" --fail-delay "$FAIL_DELAY"
  B=http://$STARTED_ADDR
  start_service article_a "$WORK/service-a.log" \
    "$BIN_DIR/article_a" --service-b-url "$B" --recovery-timeout "$RECOVERY_TIMEOUT"
  A=http://$STARTED_ADDR
  say "article_b: $B  (fail delay $FAIL_DELAY)"
  say "article_a: $A  (3 failures open the circuit for $RECOVERY_TIMEOUT)"
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
  $EXAMPLES && return 0 # article_b counts nothing; the answers' times show what reached B
  b_api_calls "$B"
  printf '%sservice B /stats: api_calls = %s%s  (%s)\n' "$C_BOLD" "$API_CALLS" "$C_RESET" "$2"
  [[ $API_CALLS == "$1" ]] || die "expected B to have received $1 /api calls, it received $API_CALLS"
}

# breaker: reads A's /breaker into BREAKER_STATE, BREAKER_FAILURES, BREAKER_PROBES and
# BREAKER_REMAINING.
breaker() {
  fetch GET "$A/breaker"
  expect_status 200
  json_read "$BODY" state failure_count probe_successes remaining_seconds
  BREAKER_STATE=${JSON_VALUES[0]} BREAKER_FAILURES=${JSON_VALUES[1]}
  BREAKER_PROBES=${JSON_VALUES[2]} BREAKER_REMAINING=${JSON_VALUES[3]}
}

expect_breaker() {
  $EXAMPLES && return 0 # article_a has no /breaker; its log is checked at the end
  breaker
  say "GET /breaker: state=$BREAKER_STATE failure_count=$BREAKER_FAILURES remaining_seconds=$BREAKER_REMAINING"
  [[ $BREAKER_STATE == "$1" ]] || die "expected /breaker state $1, got $BREAKER_STATE"
  [[ $BREAKER_FAILURES == "$2" ]] || die "expected /breaker failure_count $2, got $BREAKER_FAILURES"
  # success_threshold is 1: the first successful probe closes, so none is ever counted.
  [[ $BREAKER_PROBES == 0 ]] || die "expected /breaker probe_successes 0, got $BREAKER_PROBES"
}

# expect_rejected N: A's /breaker counts N rejected calls so far.
expect_rejected() {
  $EXAMPLES && return 0
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

# wait_out_recovery: article_a has no /breaker to poll; it waits the recovery timeout out
# (rejections while Open do not extend it), and its log shows the OPEN -> HALF_OPEN.
wait_out_recovery() {
  say "waiting ${RECOVERY_TIMEOUT} (article_a has no /breaker to poll)"
  sleep "$((RECOVERY_SECONDS + 1))"
}

step_countdown() {
  heading "4. the circuit stays OPEN for the ${RECOVERY_TIMEOUT} recovery timeout"
  if $EXAMPLES; then wait_out_recovery; else countdown_to_half_open; fi
}

# expect_half_open_message: the last answer is the rejection of a call that came while the
# one probe HalfOpen admits was in flight.
expect_half_open_message() {
  expect_status 500
  json_read "$BODY" status message
  [[ ${JSON_VALUES[0]} == error ]] || die "expected status error in: $BODY"
  [[ ${JSON_VALUES[1]} == "$HALF_OPEN_PREFIX"* ]] || die "expected the message to start with '$HALF_OPEN_PREFIX'"
  expect_at_once
}

# probe_with_a_second_call: two failing calls a moment apart while HalfOpen. Whichever reaches A
# first is the one probe (it waits for B's 500); the other is rejected at once. The order is not
# assumed, only that they overlap: the second is sent a quarter of the fail delay later.
probe_with_a_second_call() {
  local path='/call?fail=true' first_status first_millis first_body
  printf "%s\$ curl -s '%s' &   # in the background%s\n" "$C_CYAN" "$A$path" "$C_RESET"
  curl -sS -o "$WORK/probe.body" -w '%{http_code} %{time_total}' --max-time "$CURL_MAX_SECONDS" \
    "$A$path" >"$WORK/probe.meta" &
  local probe_pid=$!
  sleep "$(printf '0.%03d' $((FAIL_DELAY_MS / 4)))"
  call "$path"
  wait "$probe_pid" || die "curl could not complete the background probe"
  first_status=$(cut -d' ' -f1 "$WORK/probe.meta")
  first_millis=$(seconds_to_ms "$(cut -d' ' -f2 "$WORK/probe.meta")")
  first_body=$(<"$WORK/probe.body")
  say "the background call: HTTP $first_status in $first_millis ms"
  say "$first_body"
  # Check the rejection first, then the probe, whichever order they came in.
  if [[ $BODY == *HALF_OPEN* ]]; then
    expect_half_open_message
    STATUS=$first_status MILLIS=$first_millis BODY=$first_body
    expect_b_error
  else
    expect_b_error
    STATUS=$first_status MILLIS=$first_millis BODY=$first_body
    expect_half_open_message
  fi
}

step_failed_probe_reopens() {
  heading "5. HALF_OPEN admits one probe and rejects other calls; the failing probe reopens"
  b_api_calls_unless_examples
  local before=$API_CALLS
  probe_with_a_second_call
  expect_b_calls $((before + 1)) "only the probe reached B"
  pass "one probe reached B; the call beside it was rejected with the HALF_OPEN message"
  call /call
  expect_open_message 4
  expect_b_calls $((before + 1)) "unchanged: the call after the failed probe was rejected"
  expect_breaker open 4
  pass "OPEN again, now with 4 failures"
}

step_successful_probe_closes() {
  heading "6. after another ${RECOVERY_TIMEOUT}, a successful probe closes the circuit"
  if $EXAMPLES; then wait_out_recovery; else countdown_to_half_open; fi
  b_api_calls_unless_examples
  local before=$API_CALLS
  call /call
  expect_status 200
  expect_field status success
  expect_field data "Service B: Success"
  expect_b_calls $((before + 1)) "the probe reached B"
  expect_breaker closed 0
  if $EXAMPLES; then
    call '/call?fail=true'
    expect_b_error # reached B: Closed again
  fi
  pass "CLOSED, failure count reset"
}

# b_api_calls_unless_examples: B's count into API_CALLS; 0 with the examples, which count nothing.
b_api_calls_unless_examples() {
  API_CALLS=0
  $EXAMPLES || b_api_calls "$B"
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
  local wanted=$WANTED_TRANSITIONS
  # Step 7 (the fallback) is the binaries' only; it adds the last CLOSED -> OPEN.
  $EXAMPLES && wanted=${WANTED_TRANSITIONS%, CLOSED -> OPEN}
  "$PYTHON" "$SCRIPTS/transitions_in_order.py" "$lines" "$wanted" ||
    die "A's log lacks a state change; wanted, in order: $wanted"
  pass "every transition was logged"
}

main() {
  parse_args "$@"
  require_tools cargo curl python3
  resolve_python
  setup_workdir
  if $EXAMPLES; then
    build_examples
    start_examples
  else
    build_binaries
    start_services
  fi
  step_healthy_call
  step_three_failures
  step_open_rejects_at_once
  step_countdown
  step_failed_probe_reopens
  step_successful_probe_closes
  $EXAMPLES || step_fallback_serves_last_good_body
  show_state_changes
  printf '\n%sdemo passed: the breaker behaved as the article describes%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
