#!/usr/bin/env bash
# fleet.sh: five replicas of service A in front of one B, sharing their breakers' state through
# a real Redis (Debian's redis-server, installed when missing) with --fleet-redis, against the
# same five replicas each on its own; every process on loopback, fresh for each case:
#   B failing        calls one at a time, round robin over the replicas, B failing each after
#                    300 ms: the calls that reach B before every replica rejects, then the
#                    probes that reach B in each of three recovery periods; without the fleet,
#                    with it at quorum 1 and at quorum 3;
#   a broken path    B healthy, replica 3 pointed at a dead port: at quorum 2 the other four
#                    stay closed and serve; at quorum 1 every replica opens (the trade-off);
#   Redis lost       B healthy, quorum 1, a steady load on every replica: Redis stopped
#                    (SIGSTOP), then killed, then started again: the answers and their p99 in
#                    each phase, /breaker's "connected", and how long sharing took to resume;
#   the cost         instructions per healthy /call of one replica under callgrind (valgrind,
#                    installed when missing), the fleet off, then on among four more replicas:
#                    scripts/ceiling.sh --instructions's method.
#
# Usage: scripts/fleet.sh [--short]
#
#   --short   for CI: 150 calls a replica in each phase of "Redis lost" (instead of 600) and
#             300 counted requests after 100 to warm up under callgrind (instead of 3,000
#             after 1,000); the other cases are the same. The verdicts are the same too.
#
# Prints the tables (markdown; scripts/fleet_report.py), then every promise beside what the
# run showed, and exits 1 when one does not hold: at quorum 1 at most threshold + replicas
# calls reach B before every replica rejects (replicas x threshold without it), exactly one
# probe reaches B in each recovery period, the broken replica opens alone at quorum 2 (and all
# do at quorum 1), no call fails and no phase's p99 grows past 1.5 times the usual p99 (plus
# 2 ms) while Redis is stopped or gone, sharing resumes within 3 s of Redis coming back, and
# the fleet adds at most 3 % to the instructions per call. Exits 2 on a bad flag. Needs bash,
# cargo, curl, python3, timeout; root (apt-get) when redis-server or valgrind is missing.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# ceiling.sh --instructions's pieces: require_valgrind, callgrind_control_bounded, dump_total,
# stop_last_service and its request counts.
# shellcheck source=ceiling-instructions.sh
source "$(dirname "${BASH_SOURCE[0]}")/ceiling-instructions.sh"

REPLICAS=5
# The article's breaker, with a shorter recovery timeout so that three periods are quick.
THRESHOLD=3
RECOVERY_SECONDS=4
FAIL_DELAY=300ms
# How many calls the first case may send before every replica rejects.
MAX_TRIP_CALLS=60
# The probe periods watched.
PERIODS=3
# Between two calls of the probe periods, so each replica gets a call every ~150 ms.
PROBE_PAUSE=0.02
# Calls per replica in each phase of "Redis lost", 2 at a time.
OUTAGE_CALLS=600
# How long sharing may take to resume once Redis is back.
RESUME_LIMIT=3
# The fleet's figures are compared with these.
MAX_COST_RATIO=1.03
P99_FACTOR=1.5
P99_SLACK_MS=2

parse_flags() {
  case ${1:-} in
    -h | --help) usage && exit 0 ;;
    '') ;;
    --short) OUTAGE_CALLS=150 REQUESTS=$SHORT_REQUESTS WARMUP_REQUESTS=$SHORT_WARMUP_REQUESTS ;;
    *) usage_error "unknown argument: $1" ;;
  esac
  (($# <= 1)) || usage_error "one option at most"
}

# ---- Redis -------------------------------------------------------------------------------------

# start_redis [PORT]: a fresh redis-server on PORT (default: a free one), nothing saved to disk.
# Sets REDIS_PORT, REDIS_URL and REDIS_PID.
start_redis() {
  REDIS_PORT=${1:-$(free_port)}
  launch_process redis "$WORK/redis.$REDIS_PORT.log" redis-server --port "$REDIS_PORT" \
    --bind 127.0.0.1 --save '' --appendonly no
  REDIS_PID=${SERVICE_PIDS[-1]}
  REDIS_URL=redis://127.0.0.1:$REDIS_PORT
  local deadline=$((SECONDS + STARTUP_SECONDS))
  until [[ $(redis-cli -p "$REDIS_PORT" PING 2>/dev/null) == PONG ]]; do
    kill -0 "$REDIS_PID" 2>/dev/null || die "redis-server exited while starting (see $WORK/redis.$REDIS_PORT.log)"
    ((SECONDS < deadline)) || die "redis-server did not answer PING within ${STARTUP_SECONDS}s"
    sleep 0.05
  done
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the replicas ------------------------------------------------------------------------------

# start_replicas NAME B_URL FLEET_FLAGS [BROKEN_INDEX]: REPLICAS fresh replicas of A calling
# B_URL (the one at BROKEN_INDEX, from 0, a dead port instead), each with the words of
# FLEET_FLAGS (empty: no fleet). Sets A_URLS.
start_replicas() {
  local name=$1 b_url=$2 fleet_flags=$3 broken=${4:--1} i url
  A_URLS=()
  for ((i = 0; i < REPLICAS; i++)); do
    url=$b_url
    ((i == broken)) && url=http://127.0.0.1:$(free_port)
    # shellcheck disable=SC2086 # the fleet's flags are words
    start_service "service-a ($name $((i + 1)))" "$WORK/$name.a$((i + 1)).log" "$BIN_DIR/service-a" \
      --service-b-url "$url" --recovery-timeout "${RECOVERY_SECONDS}s" --request-timeout 1s $fleet_flags
    A_URLS+=("http://$STARTED_ADDR")
  done
  for url in "${A_URLS[@]}"; do
    wait_healthy service-a "$url/health"
  done
  [[ -z $fleet_flags ]] || await_fleet
}

# await_fleet: until every replica's /breaker shows the fleet connected with every replica live.
await_fleet() {
  local deadline=$((SECONDS + STARTUP_SECONDS)) url
  for url in "${A_URLS[@]}"; do
    until fleet_of "$url" && [[ ${JSON_VALUES[0]} == true && ${JSON_VALUES[1]} == "$REPLICAS" ]]; do
      ((SECONDS < deadline)) || die "the replica at $url never saw the fleet: $BODY"
      sleep 0.05
    done
  done
}

# fleet_of URL: "fleet.connected" and "fleet.replicas_live" of A's /breaker, into JSON_VALUES.
fleet_of() {
  fetch_ok "A's /breaker" "$1/breaker"
  json_read "$BODY" fleet.connected fleet.replicas_live
}

# state_of URL: A's breaker state, into STATE.
state_of() {
  fetch_ok "A's /breaker" "$1/breaker"
  json_read "$BODY" state
  STATE=${JSON_VALUES[0]}
}

# call_next: one call of /call on the next replica in turn. Sets REACHED (1 when the answer is
# not a rejection by the breaker: B was called), STATUS and BODY.
call_next() {
  local url=${A_URLS[NEXT % REPLICAS]}
  NEXT=$((NEXT + 1))
  fetch GET "$url/call"
  if [[ $BODY == *'"message":"Circuit \"call_service_b\"'* ]]; then REACHED=0; else REACHED=1; fi
}

# ---- 1. B failing ------------------------------------------------------------------------------

# failing_case NAME LABEL FLEET_FLAGS: one row of the first table, into $WORK/NAME.row.json.
failing_case() {
  local name=$1 label=$2 flags=$3
  heading "B failing, $label"
  start_service service-b "$WORK/$name.b.log" "$BIN_DIR/service-b" --fail-delay "$FAIL_DELAY"
  local b=http://$STARTED_ADDR
  wait_healthy service-b "$b/health"
  set_b_mode "$b" '{"mode":"fail"}'
  [[ -z $flags ]] || start_redis
  start_replicas "$name" "$b" "${flags//@REDIS@/${REDIS_URL:-}}"
  NEXT=0
  local streak=0 calls=0 said_fleet=no
  while ((streak < REPLICAS)); do
    ((calls < MAX_TRIP_CALLS)) || die "$MAX_TRIP_CALLS calls and some replica still calls B"
    call_next
    calls=$((calls + 1))
    if ((REACHED)); then streak=0; else streak=$((streak + 1)); fi
    [[ $BODY != *'(fleet: '* ]] || said_fleet=yes
  done
  b_api_calls "$b"
  local reached=$API_CALLS
  say "$reached calls reached B before every replica rejected ($calls sent)"
  probe_periods "$name" "$b" "$reached"
  "$PYTHON" "$ROOT/scripts/fleet_report.py" row failing "$label" "$reached" "$calls" \
    "$WORK/$name.probes" "$API_CALLS" "$said_fleet" >"$WORK/$name.row.json" ||
    die "could not write the row"
  stop_services
}

# probe_periods NAME B_URL REACHED: calls round robin for PERIODS recovery periods and a little
# more, writing the time of each call that reached B, and its replica, into $WORK/NAME.probes;
# checks that B counted as many calls since (its count was REACHED).
probe_periods() {
  local name=$1 b=$2 before=$3
  local until_s=$((PERIODS * RECOVERY_SECONDS + RECOVERY_SECONDS / 2 + 1))
  local end_us=$((${EPOCHREALTIME/./} + until_s * 1000000))
  : >"$WORK/$name.probes"
  say "calling every replica in turn for ${until_s}s: $PERIODS recovery periods"
  # The time is read in bash: a call every few tens of milliseconds leaves no room for python.
  while ((${EPOCHREALTIME/./} < end_us)); do
    call_next
    ((REACHED)) && printf '%s %s\n' "$EPOCHREALTIME" "$(((NEXT - 1) % REPLICAS + 1))" >>"$WORK/$name.probes"
    sleep "$PROBE_PAUSE"
  done
  b_api_calls "$b"
  local counted
  counted=$(wc -l <"$WORK/$name.probes")
  ((API_CALLS - before == counted)) ||
    die "B counted $((API_CALLS - before)) calls in the probe periods, the answers say $counted"
}

# ---- 2. a broken path --------------------------------------------------------------------------

# broken_case NAME QUORUM: B healthy, replica 3's path broken; the states after the calls.
broken_case() {
  local name=$1 quorum=$2
  heading "a broken path: replica 3 calls a dead port, B healthy, quorum $quorum"
  start_service service-b "$WORK/$name.b.log" "$BIN_DIR/service-b"
  local b=http://$STARTED_ADDR
  wait_healthy service-b "$b/health"
  start_redis
  start_replicas "$name" "$b" "--fleet-redis $REDIS_URL --fleet-quorum $quorum" 2
  NEXT=0
  local i ok_others=0 calls_others=0 states=()
  for ((i = 0; i < 10 * REPLICAS; i++)); do
    call_next
    if (((NEXT - 1) % REPLICAS != 2)); then
      calls_others=$((calls_others + 1))
      [[ $STATUS == 200 ]] && ok_others=$((ok_others + 1))
    fi
  done
  # Two heartbeats for what the last calls did to reach every replica.
  sleep 0.7
  for i in "${!A_URLS[@]}"; do
    state_of "${A_URLS[i]}"
    states+=("$STATE")
  done
  say "states: ${states[*]}; the other four answered $ok_others of $calls_others calls 200"
  "$PYTHON" "$ROOT/scripts/fleet_report.py" row broken "$quorum" "$ok_others" "$calls_others" \
    "${states[@]}" >"$WORK/$name.row.json" || die "could not write the row"
  stop_services
}

# ---- 3. Redis lost -----------------------------------------------------------------------------

# outage_case: B healthy, quorum 1; the phases of Redis's loss and return.
outage_case() {
  heading "Redis lost: stopped, then killed, then back; B healthy, quorum 1"
  start_service service-b "$WORK/outage.b.log" "$BIN_DIR/service-b"
  local b=http://$STARTED_ADDR
  wait_healthy service-b "$b/health"
  start_redis
  local port=$REDIS_PORT
  start_replicas outage "$b" "--fleet-redis $REDIS_URL --fleet-quorum 1"
  load_phase usual
  kill -STOP "$REDIS_PID"
  load_phase stopped
  all_disconnected stopped
  kill -KILL "$REDIS_PID"
  load_phase gone
  all_disconnected gone
  local back=${EPOCHREALTIME/./}
  start_redis "$port"
  local deadline=$((SECONDS + 30)) url
  for url in "${A_URLS[@]}"; do
    # Read in bash, not python: the time measured is the fleet's, not the script's.
    until fetch GET "$url/breaker" && [[ $BODY == *'"connected":true'* &&
      $BODY == *"\"replicas_live\":$REPLICAS,"* ]]; do
      ((SECONDS < deadline)) || die "sharing did not resume within 30 s of Redis coming back"
      sleep 0.01
    done
  done
  local took=$((${EPOCHREALTIME/./} - back))
  printf '%d.%02d\n' $((took / 1000000)) $((took % 1000000 / 10000)) >"$WORK/outage.resumed"
  say "sharing resumed $(<"$WORK/outage.resumed") s after Redis came back"
  load_phase back
  stop_services
}

# load_phase NAME: OUTAGE_CALLS calls on every replica at once, 2 at a time on each, with
# loadgen; each replica's summary in $WORK/outage.NAME.N.json.
load_phase() {
  local phase=$1 i pids=()
  say "-- $phase: $OUTAGE_CALLS calls on each replica"
  for i in "${!A_URLS[@]}"; do
    timeout "$LOAD_MAX_SECONDS" "$BIN_DIR/loadgen" --url "${A_URLS[i]}/call" \
      --requests "$OUTAGE_CALLS" --concurrency 2 >"$WORK/outage.$phase.$i.json" &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || die "loadgen against replica $((i + 1)) failed in the $phase phase"
  done
}

# all_disconnected PHASE: every replica's /breaker says the fleet is not connected.
all_disconnected() {
  local url deadline=$((SECONDS + 5))
  for url in "${A_URLS[@]}"; do
    until fleet_of "$url" && [[ ${JSON_VALUES[0]} == false ]]; do
      ((SECONDS < deadline)) || die "with Redis $1, $url/breaker still says connected"
      sleep 0.05
    done
  done
  printf 'false\n' >"$WORK/outage.$1.connected"
  pass "with Redis $1, every replica's /breaker says \"connected\": false"
}

# ---- 4. the cost -------------------------------------------------------------------------------

# cost_case: instructions per healthy call of one replica under callgrind, without the fleet,
# then with it among four replicas that are not counted.
cost_case() {
  heading "the cost: instructions per /call under callgrind, the fleet off and on"
  mkdir -p "$WORK/callgrind"
  STARTUP_SECONDS=$CALLGRIND_STARTUP_SECONDS
  start_service service-b "$WORK/cost.b.log" "$BIN_DIR/service-b"
  local b=http://$STARTED_ADDR
  wait_healthy service-b "$b/health"
  count_replica off "$b"
  start_redis
  local i
  for ((i = 1; i < REPLICAS; i++)); do
    start_service "service-a (cost $i)" "$WORK/cost.a$i.log" "$BIN_DIR/service-a" \
      --service-b-url "$b" --fleet-redis "$REDIS_URL"
  done
  count_replica on "$b" --fleet-redis "$REDIS_URL"
  stop_services
}

# count_replica NAME B_URL [FLAG...]: service A with the FLAGs under callgrind: warmed up, its
# counters zeroed, REQUESTS requests, its counters dumped (count_target's sequence in
# ceiling-instructions.sh); the instructions in $WORK/callgrind/NAME.ir, loadgen's summary in
# $WORK/callgrind/NAME.json.
count_replica() {
  local name=$1 b=$2 out=$WORK/callgrind/$1.callgrind
  shift 2
  start_service "service-a (callgrind, fleet $name)" "$WORK/cost.$name.log" \
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN_DIR/service-a" --service-b-url "$b" "$@"
  local pid=${SERVICE_PIDS[-1]} url=http://$STARTED_ADDR
  wait_healthy "service-a (callgrind)" "$url/health"
  [[ $name == off ]] || await_counted_fleet "$url"
  run_load "cost-$name-warmup" "$url/call" "$WARMUP_REQUESTS" "$CALLGRIND_CONCURRENCY" >/dev/null
  callgrind_control_bounded --zero "$pid"
  run_load "cost-$name" "$url/call" "$REQUESTS" "$CALLGRIND_CONCURRENCY" >/dev/null
  callgrind_control_bounded --dump "$pid"
  dump_total "$out.1" >"$WORK/callgrind/$name.ir"
  cp "$WORK/cost-$name.load.json" "$WORK/callgrind/$name.json"
  if [[ $name != off ]]; then
    fleet_of "$url"
    [[ ${JSON_VALUES[0]} == true && ${JSON_VALUES[1]} == "$REPLICAS" ]] ||
      die "under callgrind the counted replica lost the fleet ($BODY): its count would leave the fleet's work out"
    printf '%s\n' "${JSON_VALUES[1]}" >"$WORK/callgrind/$name.live"
  fi
  stop_last_service
  say "fleet $name: $(<"$WORK/callgrind/$name.ir") instructions in $REQUESTS requests"
}

# await_counted_fleet URL: until the replica under callgrind sees every replica.
await_counted_fleet() {
  local deadline=$((SECONDS + CALLGRIND_STARTUP_SECONDS))
  until fleet_of "$1" && [[ ${JSON_VALUES[0]} == true && ${JSON_VALUES[1]} == "$REPLICAS" ]]; do
    ((SECONDS < deadline)) || die "the replica under callgrind never saw the fleet: $BODY"
    sleep 0.2
  done
}

main() {
  parse_flags "$@"
  require_tools cargo curl python3 timeout
  resolve_python
  setup_workdir
  require_redis
  require_valgrind
  build_binaries loadgen
  local fleet='--fleet-redis @REDIS@ --fleet-quorum'
  failing_case alone "without the fleet" ''
  failing_case quorum1 "fleet, quorum 1" "$fleet 1"
  failing_case quorum3 "fleet, quorum 3" "$fleet 3"
  broken_case broken2 2
  broken_case broken1 1
  outage_case
  cost_case
  CONTEXT='the results'
  "$PYTHON" "$ROOT/scripts/fleet_report.py" report "$WORK" "$REPLICAS" "$THRESHOLD" \
    "$RECOVERY_SECONDS" "$PERIODS" "$REQUESTS" "$RESUME_LIMIT" "$MAX_COST_RATIO" \
    "$P99_FACTOR" "$P99_SLACK_MS" || die "the fleet did not show what it promises (see above)"
  printf '\n%sthe fleet shows what it promises%s\n' "$C_GREEN$C_BOLD" "$C_RESET"
}

main "$@"
