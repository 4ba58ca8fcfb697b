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
#   crowd         199 addresses (127.0.0.2-200) each keep 20 idle connections to B (its
#                 per-client share of --max-connections 200), reconnecting whenever one is
#                 closed, for 20 s; from 5 s on, a newcomer on 127.0.0.250 asks /health 20
#                 times, every 0.5 s; B's log lines about its cap are counted, after a request
#                 once the cap has been quiet for 10 s, which ends the episode;
#   trickle       A in the adaptive profile, 200 healthy GET /call a second beside 10
#                 GET /call?fail=true a second (each held 2 s by B, then 500), for 12 s;
#   Retry-After   A in the production profile (5 s call deadline) calls a fake B that answers
#                 503 with Retry-After: 3600;
#   nonsense      each service started with a flag value that makes no sense (a throttle K
#                 under 1 or of 309 digits, a negative count, a zero cap, a share over the cap).
#
# Usage: scripts/hostile.sh
#
# Prints each attack's figures. Exits 1 unless the slow bodies' slots are freed and /health
# answers within the 10 s body timeout (plus 2 s for the load), the 3,000 long values write
# under 1 MB of A's log and none reaches B, every newcomer is answered within 1 s, the crowd's
# newcomer is answered within 1 s at the median and every time within 2 s while B logs at most
# 4 lines about its cap, at least 99 % of the healthy calls beside the trickle are answered
# 200, Retry-After: 3600 costs one call to B, and every nonsense flag is refused with exit 2
# and a message naming it. Timings on a shared machine are indicative only.
# Needs bash, curl, python3.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ATTACKS=$SCRIPTS/hostile-attacks.py
BODY_TIMEOUT_S=10
SLACK_S=2
NEWCOMER_LIMIT_S=1
CROWD_MEDIAN_S=1
CROWD_MAX_S=2
CROWD_CAP_LINES=4
# service-kit's CAP_EPISODE_QUIET (10 s), and a second for the clock.
CAP_QUIET_S=11
HEALTHY_SHARE=99

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

crowd() {
  heading "crowd: 199 addresses, 20 idle connections each, against B's --max-connections 200"
  local log=$WORK/crowd.service-b.log
  start_service service-b "$log" "$BIN_DIR/service-b" --max-connections 200
  local b=$STARTED_ADDR probe waits=() probes=()
  wait_healthy service-b "http://$b/health"
  say "\$ hostile-attacks.py crowd $b 2 200 20 20 &   # and 20 curl --interface 127.0.0.250"
  timeout 120 "$PYTHON" "$ATTACKS" crowd "$b" 2 200 20 20 >"$WORK/crowd.json" &
  local crowd_pid=$!
  sleep 5
  # The probes on a fixed schedule, each in its own curl, so a slow one delays no other.
  for probe in {1..20}; do
    {
      curl -sS -o /dev/null -w '%{time_total}' --interface 127.0.0.250 --max-time 10 \
        "http://$b/health" >"$WORK/crowd.probe.$probe" 2>/dev/null ||
        echo unanswered >"$WORK/crowd.probe.$probe"
    } &
    probes+=("$!")
    sleep 0.5
  done
  wait "$crowd_pid" || die "the crowd's client failed"
  wait "${probes[@]}"
  # The episode ends once the cap has not been met for its quiet time: one more connection
  # after it writes the closing line with the count.
  sleep "$CAP_QUIET_S"
  curl -sS -o /dev/null --max-time 5 "http://$b/health" || die "B did not answer after the crowd"
  for probe in {1..20}; do
    waits+=("$(<"$WORK/crowd.probe.$probe")")
  done
  stop_services
  local cap_lines
  cap_lines=$(grep -c 'connection limit' "$log" || true)
  say "$(<"$WORK/crowd.json")"
  say "B's log: $(wc -l <"$log") lines, $cap_lines about its cap:"
  grep 'connection limit' "$log" | cut -c1-200 || true
  say "the newcomer's waits (s): ${waits[*]}"
  RESULT=$("$PYTHON" "$SCRIPTS/newcomer_waits.py" "${waits[@]}")
  local unanswered median most
  unanswered=$(field unanswered)
  median=$(field median_s)
  most=$(field max_s)
  ((unanswered == 0)) || die "$unanswered of the newcomer's 20 requests got no answer within 10 s"
  "$PYTHON" -c 'import sys; a = list(map(float, sys.argv[1:])); sys.exit(a[0] > a[2] or a[1] > a[3])' \
    "$median" "$most" "$CROWD_MEDIAN_S" "$CROWD_MAX_S" ||
    die "the newcomer waited ${median}s at the median, up to ${most}s"
  grep -q 'connection limit 200 reached' "$log" || die "B never reached its cap: the crowd did not attack"
  grep -q 'connection limit 200 no longer reached' "$log" || die "B did not log the episode's end"
  ((cap_lines <= CROWD_CAP_LINES)) || die "B logged $cap_lines lines about its cap"
  pass "the newcomer answered 20 of 20, median ${median}s, at most ${most}s; $cap_lines line(s) about the cap"
}

trickle() {
  heading "trickle: 200 healthy calls a second beside 10 fail=true, --profile adaptive"
  start_service service-b "$WORK/trickle.service-b.log" "$BIN_DIR/service-b"
  B_URL=http://$STARTED_ADDR
  wait_healthy service-b "$B_URL/health"
  start_service service-a "$WORK/trickle.service-a.log" "$BIN_DIR/service-a" \
    --service-b-url "$B_URL" --profile adaptive
  A_URL=http://$STARTED_ADDR
  wait_healthy service-a "$A_URL/health"
  say "\$ loadgen --url $A_URL/call --rate 200 --duration 12s & loadgen --url '$A_URL/call?fail=true' --rate 10 --duration 12s"
  timeout 60 "$BIN_DIR/loadgen" --url "$A_URL/call?fail=true" --rate 10 --duration 12s \
    --concurrency 200 --timeout 10s >"$WORK/trickle.failing.json" &
  local failing=$!
  timeout 60 "$BIN_DIR/loadgen" --url "$A_URL/call" --rate 200 --duration 12s \
    --concurrency 500 --timeout 10s >"$WORK/trickle.healthy.json" ||
    die "the healthy calls' loadgen failed"
  wait "$failing" || die "the failing calls' loadgen failed"
  fetch GET "$A_URL/breaker"
  json_read "$BODY" layers.bulkhead.limit
  local limit=${JSON_VALUES[0]}
  stop_services
  local healthy failing_json sent ok failed share
  healthy=$(<"$WORK/trickle.healthy.json")
  failing_json=$(<"$WORK/trickle.failing.json")
  sent=$(json_count "$healthy" requests)
  ok=$(json_count "$healthy" statuses.200)
  failed=$(json_count "$failing_json" statuses.500)
  share=$(percent "$ok" "$sent")
  say "healthy: $ok of $sent answered 200 ($share %), statuses $(json_count "$healthy" statuses.503) x 503; fail=true: $failed answered 500; the adaptive limit at the end: $limit"
  ((failed > 0)) || die "no fail=true call failed: the trickle did not run"
  ((ok * 100 >= sent * HEALTHY_SHARE)) || die "only $share % of the healthy calls answered 200"
  pass "$share % of the healthy calls answered 200 beside $failed slow failures"
}

# NONSENSE: "service flag value [flag value...]|the flag the refusal must name", one a case.
NONSENSE=(
  "service-a --adaptive-throttle 0.5|--adaptive-throttle"
  "service-a --adaptive-throttle 1e-300|--adaptive-throttle"
  "service-a --adaptive-throttle 1e308|--adaptive-throttle"
  "service-a --adaptive-throttle -1|--adaptive-throttle"
  "service-a --max-concurrent -1|--max-concurrent"
  "service-a --max-concurrent 0|--max-concurrent"
  "service-a --max-connections 0|--max-connections"
  "service-a --max-connections -1|--max-connections"
  "service-a --max-connections 10 --max-connections-per-client 20|--max-connections-per-client"
  "service-a --header-timeout 0s|--header-timeout"
  "service-b --max-connections 0|--max-connections"
  "service-b --max-connections -1|--max-connections"
  "service-b --max-connections 10 --max-connections-per-client 20|--max-connections-per-client"
  "service-b --max-connections 10 --max-connections-per-prefix 20|--max-connections-per-prefix"
  "service-b --fail-delay -1s|--fail-delay"
)

nonsense_flags() {
  heading "nonsense flags: each must exit 2 naming the flag"
  local case args flag rc refusal refused=0
  for case in "${NONSENSE[@]}"; do
    read -ra args <<<"${case%|*}"
    flag=${case#*|}
    # Were the value accepted, the service would start and serve; timeout stops it (124).
    rc=0
    refusal=$(timeout 5 "$BIN_DIR/${args[0]}" "${args[@]:1}" --listen 127.0.0.1:0 2>&1 >/dev/null) ||
      rc=$?
    refusal=$(grep -m1 -i error <<<"$refusal" || head -n1 <<<"$refusal")
    say "${args[*]}: exit $rc: $refusal"
    ((rc == 2)) || die "${args[*]} exited $rc, not 2"
    [[ $refusal == *"$flag"* ]] || die "${args[*]}'s refusal does not name $flag"
    refused=$((refused + 1))
  done
  pass "$refused of ${#NONSENSE[@]} nonsense values refused with exit 2, each naming its flag"
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
  build_binaries loadgen
  slow_bodies
  long_fail
  newcomer
  crowd
  trickle
  retry_after
  nonsense_flags
}

main "$@"
