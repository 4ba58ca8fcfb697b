#!/usr/bin/env bash
# observe.sh: the circuit's story, told three times over (metrics, alerts, logs) by a real
# Prometheus scraping a live Service A.
#
# It installs Debian's prometheus if prometheus or promtool is missing, checks
# deploy/prometheus/prometheus.yml and alerts.yml with promtool and the Grafana dashboard's model,
# then starts B, A (production profile, JSON logs) and Prometheus on free loopback ports.
# Prometheus scrapes A every second and runs a copy of the alert rules whose `for:` is 2 s
# (the shipped file keeps its minutes). The script then:
#   1. trips the circuit on its failure rate three times, letting a good probe close it
#      between trips (flapping), then makes two half-open probes fail;
#   2. waits until Prometheus reports CircuitBreakerOpen, CircuitBreakerFailureRateHigh and
#      CircuitBreakerFlapping firing;
#   3. lets a good probe close the circuit, and runs every PromQL query of every panel of
#      deploy/grafana/dashboard.json through Prometheus's query API;
#   4. checks that A's JSON log has one transition line per transition Prometheus counted, in
#      the order the scenario caused them.
#
# Usage: scripts/observe.sh
#
# Exits 1 naming what did not happen: an alert that did not fire in time, a panel query that
# failed or returned no series, a log that tells another story. Needs bash, curl, python3, and
# root (apt-get) when prometheus is not installed.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PROMETHEUS_DIR=$ROOT/deploy/prometheus
DASHBOARD=$ROOT/deploy/grafana/dashboard.json
RECOVERY_SECONDS=3
# A's flags: the production profile, a window that may trip after 4 calls, a short recovery.
A_FLAGS=(--profile production --minimum-calls 4 --recovery-timeout "${RECOVERY_SECONDS}s"
  --request-timeout 1s --log-format json)
# The alerts' `for:` in the test copy, and how long they may take to fire.
TEST_FOR=2s
ALERT_SECONDS=60
ALERTS=(CircuitBreakerOpen CircuitBreakerFailureRateHigh CircuitBreakerFlapping)
# The transitions the scenario causes, in order, as "from>to".
WANTED_TRANSITIONS='closed>open open>half_open half_open>closed'
WANTED_TRANSITIONS+=' closed>open open>half_open half_open>closed'
WANTED_TRANSITIONS+=' closed>open open>half_open half_open>open open>half_open half_open>open'
WANTED_TRANSITIONS+=' open>half_open half_open>closed'

# install_prometheus: Debian's prometheus (which brings promtool), unless both are there. The
# package may try to start its own service; this script never talks to it (it runs its own
# Prometheus on a free port with its own data), so whether it started does not matter.
install_prometheus() {
  heading "prometheus"
  if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    apt_install prometheus
  fi
  say "$(prometheus --version 2>&1 | head -n 1)"
}

check_shipped_files() {
  heading "the shipped files"
  promtool check config "$PROMETHEUS_DIR/prometheus.yml" || die "promtool refuses prometheus.yml"
  promtool check rules "$PROMETHEUS_DIR/alerts.yml" || die "promtool refuses alerts.yml"
  "$PYTHON" "$SCRIPTS/dashboard_check.py" model "$DASHBOARD" ||
    die "dashboard.json is not a dashboard model Grafana can import"
}

start_services() {
  heading "services"
  start_service service-b "$WORK/service-b.log" "$BIN_DIR/service-b" --fail-delay 50ms
  B_URL=http://$STARTED_ADDR
  wait_healthy service-b "$B_URL/health"
  start_service service-a "$WORK/service-a.log" "$BIN_DIR/service-a" --service-b-url "$B_URL" \
    "${A_FLAGS[@]}"
  A_URL=http://$STARTED_ADDR
  wait_healthy service-a "$A_URL/health"
  say "service A on $A_URL: ${A_FLAGS[*]}"
}

# test_copies ADDRESS: prometheus.yml scraping ADDRESS every second, and alerts.yml with every
# `for:` at TEST_FOR, into $WORK/prometheus/.
test_copies() {
  local dir=$WORK/prometheus
  mkdir -p "$dir/data"
  sed -E -e "s/^( *for:) .*/\1 $TEST_FOR/" "$PROMETHEUS_DIR/alerts.yml" >"$dir/alerts.test.yml"
  sed -E -e 's/^( *(scrape|evaluation)_interval:) .*/\1 1s/' -e 's/alerts\.yml/alerts.test.yml/' \
    -e "s/127\\.0\\.0\\.1:5000/$1/" "$PROMETHEUS_DIR/prometheus.yml" >"$dir/prometheus.test.yml"
  grep -q "$1" "$dir/prometheus.test.yml" || die "the test copy of prometheus.yml does not scrape $1"
  [[ $(grep -c 'interval: 1s' "$dir/prometheus.test.yml") == 2 ]] ||
    die "the test copy of prometheus.yml does not scrape and evaluate every second"
  ! grep -E '^ *for:' "$dir/alerts.test.yml" | grep -qv "for: $TEST_FOR" ||
    die "the test copy of alerts.yml kept a long for:"
  promtool check config "$dir/prometheus.test.yml" >/dev/null || die "promtool refuses the test copy"
}

# start_prometheus: on 127.0.0.1:0, stopped by the EXIT trap with the services; sets PROM_URL.
start_prometheus() {
  heading "Prometheus, scraping A every second"
  test_copies "${A_URL#http://}"
  local dir=$WORK/prometheus log=$WORK/prometheus.log deadline=$((SECONDS + STARTUP_SECONDS))
  : >"$log"
  prometheus --config.file="$dir/prometheus.test.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address=127.0.0.1:0 >"$log" 2>&1 &
  SERVICE_PIDS+=("$!") SERVICE_NAMES+=(prometheus) SERVICE_LOGS+=("$log")
  local address=''
  until [[ -n $address ]]; do
    address=$(grep -m1 'msg="Listening on"' "$log" | grep -oE 'address=127\.0\.0\.1:[0-9]+' |
      cut -d= -f2 || true)
    ((SECONDS < deadline)) || die "Prometheus logged no address within ${STARTUP_SECONDS}s"
    [[ -n $address ]] || sleep 0.1
  done
  PROM_URL=http://$address
  wait_healthy prometheus "$PROM_URL/-/ready"
  wait_for_query 'up{job="service-a"} == 1' "Prometheus to scrape A"
  say "Prometheus on $PROM_URL ($(prometheus --version 2>&1 | head -n 1 | cut -d' ' -f3))"
}

# series_count EXPR: how many series Prometheus returns for EXPR now (0 on any error).
series_count() {
  curl -sS --max-time 5 --get --data-urlencode "query=$1" "$PROM_URL/api/v1/query" 2>/dev/null |
    "$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(len(d["data"]["result"]) if d["status"] == "success" else 0)' 2>/dev/null ||
    echo 0
}

# wait_for_query EXPR WHAT: until EXPR has a series, for at most ALERT_SECONDS.
wait_for_query() {
  local deadline=$((SECONDS + ALERT_SECONDS))
  until (($(series_count "$1") > 0)); do
    ((SECONDS < deadline)) || die "waited ${ALERT_SECONDS}s for $2 ($1)"
    sleep 0.5
  done
}

call_a() {
  fetch GET "$A_URL$1"
  say "GET $1 -> $STATUS in ${MILLIS} ms"
}

# breaker_state: A's /breaker state now (reading it lets an Open circuit become HalfOpen).
breaker_state() {
  fetch GET "$A_URL/breaker"
  json_read "$BODY" state
  STATE=${JSON_VALUES[0]}
}

# await_state WANTED: polls /breaker until the circuit is WANTED, for at most ALERT_SECONDS.
await_state() {
  local deadline=$((SECONDS + ALERT_SECONDS))
  breaker_state
  until [[ $STATE == "$1" ]]; do
    ((SECONDS < deadline)) || die "the circuit stayed $STATE; expected $1"
    sleep 0.2
    breaker_state
  done
}

# trip: failing calls until the window (at least 4 calls, half of them failed) opens the
# circuit.
trip() {
  local _
  for _ in 1 2 3 4; do
    call_a '/call?fail=true'
  done
  await_state open
}

# recover: a good probe once the circuit half-opens.
recover() {
  await_state half_open
  call_a /call
  await_state closed
}

flap_then_fail_probes() {
  heading "1. trip the circuit three times, closing it between, then fail two probes"
  call_a /call
  call_a /call
  call_a '/call?fail=true'
  call_a '/call?fail=true'
  await_state open
  recover
  trip
  recover
  trip
  call_a /call # rejected
  local probe
  for probe in 1 2; do
    await_state half_open
    call_a '/call?fail=true'
    await_state open
    say "probe $probe failed: open again"
  done
}

# firing: the names of the alerts firing now, sorted, on one line.
firing() {
  curl -sS --max-time 5 "$PROM_URL/api/v1/alerts" | "$PYTHON" -c 'import json, sys; print(" ".join(sorted({a["labels"]["alertname"] for a in json.load(sys.stdin)["data"]["alerts"] if a["state"] == "firing"})))'
}

await_alerts() {
  heading "2. Prometheus's alerts"
  local deadline=$((SECONDS + ALERT_SECONDS)) started=$SECONDS now alert pending=("${ALERTS[@]}")
  while ((${#pending[@]} > 0)); do
    now=$(firing) || now=''
    local still=()
    for alert in "${pending[@]}"; do
      if [[ " $now " == *" $alert "* ]]; then
        pass "$alert firing ($((SECONDS - started)) s after the probes)"
      else
        still+=("$alert")
      fi
    done
    pending=("${still[@]}")
    ((${#pending[@]} == 0)) && break
    ((SECONDS < deadline)) || die "not firing after ${ALERT_SECONDS}s: ${pending[*]} (firing: ${now:-none})"
    sleep 0.5
  done
}

close_the_circuit() {
  heading "3. a good probe closes the circuit"
  await_state half_open
  call_a /call
  await_state closed
  call_a /call # the window holds a call again: the failure-rate gauge is back
  wait_for_query 'circuit_breaker_state{state="closed"} == 1 and on (name) circuit_breaker_failure_rate' \
    "Prometheus to see the circuit closed"
}

# check_dashboard: every target of every panel, its Grafana variables filled in, through
# /api/v1/query; dies naming each that errs or returns no series but NaN ones (nothing to draw).
check_dashboard() {
  heading "the Grafana dashboard's queries"
  "$PYTHON" "$SCRIPTS/dashboard_check.py" queries "$DASHBOARD" "$PROM_URL" ||
    die "a panel's query failed or returned no series (above)"
}

# check_logs: A's JSON transition lines, in order, against the scenario and against the
# transitions Prometheus counted.
check_logs() {
  heading "4. A's log tells the same story"
  local counted
  counted=$(curl -sS --max-time 5 --get --data-urlencode 'query=circuit_breaker_transitions_total > 0' \
    "$PROM_URL/api/v1/query") || die "cannot ask Prometheus for the transitions"
  "$PYTHON" "$SCRIPTS/log_transitions.py" "$WORK/service-a.log" "$WANTED_TRANSITIONS" <<<"$counted" ||
    die "A's log and Prometheus disagree (above)"
  pass "metrics, alerts and logs tell the same story"
}

main() {
  no_arguments "$@"
  require_tools cargo curl python3
  resolve_python
  setup_workdir
  install_prometheus
  check_shipped_files
  build_binaries
  start_services
  start_prometheus
  flap_then_fail_probes
  await_alerts
  close_the_circuit
  check_dashboard
  check_logs
}

main "$@"
