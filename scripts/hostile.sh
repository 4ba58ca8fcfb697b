#!/usr/bin/env bash
# hostile.sh: the hostile clients' attacks, on loopback against release builds of both
# services, each against fresh services (the clients are scripts/hostile-attacks.py; the
# newcomer's waits are summed up by newcomer_waits.py):
#   slow bodies   200 clients each send B's POST /mode a byte every 2 s, with
#                 --max-connections 200 (no per-client share, so that the body timeout alone
#                 frees the slots);
#   long fail     3,000 GET /call?fail=<15,000 '!'> to A;
#   newcomer      one client on 127.0.0.2 holds 600 connections to B (three times
#                 --max-connections 200), reconnecting as fast as it can, for 15 s, while a
#                 client on 127.0.0.3 asks /health once a second;
#   Retry-After   A in the production profile (5 s call deadline) calls a fake B that answers
#                 503 with Retry-After: 3600.
#
# Usage: scripts/hostile.sh
#
# Prints each attack's figures. Exits 1 unless the slow bodies' slots are freed and /health
# answers within the 10 s body timeout (plus 2 s for the load), the 3,000 long values write
# under 1 MB of A's log and none reaches B, every newcomer is answered within 1 s, and
# Retry-After: 3600 costs one call to B. Timings on a shared machine are indicative only.
# Needs bash, curl, python3.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ATTACKS=$SCRIPTS/hostile-attacks.py
BODY_TIMEOUT_S=10
SLACK_S=2
NEWCOMER_LIMIT_S=1

# attack NAME ARG...: runs one attack's client, bounded; its JSON into RESULT.
attack() {
  say "\$ hostile-attacks.py $1 ${*:2}"
  RESULT=$(timeout 120 "$PYTHON" "$ATTACKS" "$@") || die "the $1 client failed or ran over 120 s"
  say "$RESULT"
}

# field NAME: one field of RESULT.
field() {
  "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$RESULT" "$1"
}

slow_bodies() {
  heading "slow bodies: 200 clients, a byte every 2 s, --body-timeout ${BODY_TIMEOUT_S}s"
  start_service service-b "$WORK/slow.service-b.log" "$BIN_DIR/service-b" \
    --max-connections 200 --max-connections-per-client 0
  wait_healthy service-b "http://$STARTED_ADDR/health"
  attack slow-bodies "$STARTED_ADDR" 200 "$BODY_TIMEOUT_S"
  stop_services
  local freed health statuses
  freed=$(field last_slot_freed_at_s)
  health=$(field health_first_answered_at_s)
  statuses=$(field slow_statuses)
  [[ $statuses == "['408']" ]] || die "the slow bodies got $statuses, not only 408"
  "$PYTHON" -c 'import sys; sys.exit(not (float(sys.argv[1]) <= float(sys.argv[3]) and sys.argv[2] != "None" and float(sys.argv[2]) <= float(sys.argv[3])))' \
    "$freed" "$health" "$((BODY_TIMEOUT_S + SLACK_S))" ||
    die "slots freed at ${freed}s, /health first answered at ${health}s"
  pass "every slow body answered 408; the last slot freed at ${freed}s; /health answered at ${health}s"
}

long_fail() {
  heading "long fail: 3,000 calls with a 15,000-character fail"
  start_b_and_a long-fail '{"mode":"healthy"}'
  local log=$WORK/long-fail.service-a.log before after calls
  before=$(wc -c <"$log")
  attack long-fail "${A_URL#http://}" 3000
  after=$(wc -c <"$log")
  b_stats "$B_URL"
  json_read "$B_STATS" api_calls
  calls=${JSON_VALUES[0]}
  stop_services
  say "A's log grew by $((after - before)) bytes; B received $calls /api calls"
  [[ $(field statuses) == "{'400': 3000}" ]] || die "the long values were answered $(field statuses)"
  ((after - before < 1000000)) || die "A wrote $((after - before)) bytes of log"
  ((calls == 0)) || die "$calls long values reached B"
  pass "3,000 answered 400; $((after - before)) bytes of log; none reached B"
}

newcomer() {
  heading "newcomer: 127.0.0.2 holds 600 connections to B (--max-connections 200)"
  start_service service-b "$WORK/newcomer.service-b.log" "$BIN_DIR/service-b" \
    --max-connections 200
  local b=$STARTED_ADDR waits=() wait
  wait_healthy service-b "http://$b/health"
  say "\$ hostile-attacks.py hold $b 600 15 &   # and curl --interface 127.0.0.3 once a second"
  timeout 120 "$PYTHON" "$ATTACKS" hold "$b" 600 15 >"$WORK/hold.json" &
  local holder=$!
  sleep 2
  for _ in {1..10}; do
    wait=$(curl -sS -o /dev/null -w '%{time_total}' --interface 127.0.0.3 --max-time 12 \
      "http://$b/health") || wait=unanswered
    waits+=("$wait")
    sleep 1
  done
  wait "$holder" || die "the holding client failed"
  stop_services
  say "$(<"$WORK/hold.json")"
  say "the newcomer's waits (s): ${waits[*]}"
  RESULT=$("$PYTHON" "$SCRIPTS/newcomer_waits.py" "${waits[@]}")
  local unanswered most
  unanswered=$(field unanswered)
  most=$(field max_s)
  ((unanswered == 0)) || die "$unanswered of the newcomer's requests got no answer within 12 s"
  "$PYTHON" -c 'import sys; sys.exit(float(sys.argv[1]) > float(sys.argv[2]))' \
    "$most" "$NEWCOMER_LIMIT_S" || die "the newcomer waited up to ${most}s"
  pass "the newcomer was answered every time, median $(field median_s)s, at most ${most}s"
}

retry_after() {
  heading "Retry-After: 3600 from B, a 5 s call deadline in A"
  local portfile=$WORK/fake-b.port countfile=$WORK/fake-b.count
  launch_process fake-b "$WORK/fake-b.log" "$PYTHON" "$ATTACKS" fake-b "$portfile" "$countfile"
  local deadline=$((SECONDS + STARTUP_SECONDS))
  until [[ -s $portfile ]]; do
    ((SECONDS < deadline)) || die "the fake B did not start"
    sleep 0.1
  done
  start_service service-a "$WORK/retry-after.service-a.log" "$BIN_DIR/service-a" \
    --service-b-url "http://127.0.0.1:$(cat "$portfile")" --profile production
  A_URL=http://$STARTED_ADDR
  wait_healthy service-a "$A_URL/health"
  fetch GET "$A_URL/call"
  say "GET /call: HTTP $STATUS in ${MILLIS} ms: $BODY"
  local calls skipped
  calls=$(cat "$countfile")
  fetch GET "$A_URL/breaker"
  json_read "$BODY" layers.retry.skipped_for_retry_after
  skipped=${JSON_VALUES[0]}
  stop_services
  ((calls == 1)) || die "A called B $calls times"
  ((skipped == 1)) || die "/breaker counts $skipped retries skipped for Retry-After"
  pass "one call to B; /breaker: skipped_for_retry_after $skipped"
}

main() {
  no_arguments "$@"
  require_tools curl python3 timeout
  resolve_python
  setup_workdir
  build_binaries
  slow_bodies
  long_fail
  newcomer
  retry_after
}

main "$@"
