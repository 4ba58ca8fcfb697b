#!/usr/bin/env bash
# browser-check.sh: service A's dashboard, checked in a real browser. Headless Chromium, driven
# through chromedriver by the workspace's browser-check, opens the page, trips the circuit with
# the page's own buttons and checks that the page shows OPEN and a countdown, then HALF_OPEN
# after the recovery timeout, then CLOSED after a healthy call; then the admin buttons, with the
# right token and a wrong one. Saves a screenshot of the page once the circuit has closed.
#
# Usage: scripts/browser-check.sh [PNG]
#   PNG   where to save the screenshot (default: target/browser-check/dashboard.png);
#         `scripts/browser-check.sh docs/dashboard.png` refreshes docs/dashboard.md's.
#
# Installs Debian's chromium and chromium-driver with apt-get when either is missing (as root,
# or through sudo). Builds service-a and service-b (release) and browser-check (debug: how fast
# the driver runs does not matter), starts B (200 ms fail delay), A (2 s recovery timeout, a
# fresh admin token) and chromedriver on free loopback ports. Exits 1 naming the step the page
# got wrong. Needs bash, curl, python3, and apt-get if Chromium is missing.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The longest the whole browser session may take; each of its waits is bounded at 30 s too.
CHECK_MAX_SECONDS=180

parse_args() {
  SCREENSHOT=''
  while (($#)); do
    case $1 in
      -h | --help) usage && exit 0 ;;
      -*) usage_error "unknown argument: $1" ;;
      *)
        [[ -z $SCREENSHOT ]] || usage_error "one screenshot at most, not also $1"
        SCREENSHOT=$1
        ;;
    esac
    shift
  done
}

# install_chromium: Debian's chromium and chromium-driver, unless both are on the PATH.
install_chromium() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return
  fi
  heading "install chromium and chromium-driver (Debian packages)"
  command -v apt-get >/dev/null || die "chromium or chromedriver is missing, and there is no apt-get to install them"
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  say "\$ ${sudo[*]:+${sudo[*]} }apt-get install chromium chromium-driver"
  "${sudo[@]}" apt-get update -q || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends chromium chromium-driver ||
    die "apt-get could not install chromium and chromium-driver"
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    die "chromium or chromedriver is still not on the PATH after apt-get"
  fi
}

# build_checker: the debug build of browser-check, into CHECKER.
build_checker() {
  say "\$ cargo build -p browser-check"
  (cd "$ROOT" && cargo build -p browser-check) || die "cargo build -p browser-check failed"
  CHECKER=$(dirname "$BIN_DIR")/debug/browser-check
}

start_services() {
  heading "start the services on free loopback ports"
  # A fresh token for this run, handed over in the environment, never on a command line.
  SERVICE_A_ADMIN_TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  export SERVICE_A_ADMIN_TOKEN
  start_service service-b "$WORK/service-b.log" "$BIN_DIR/service-b" --fail-delay 200ms
  local b=http://$STARTED_ADDR
  wait_healthy service-b "$b/health"
  start_service service-a "$WORK/service-a.log" "$BIN_DIR/service-a" --service-b-url "$b" \
    --request-timeout 1s --failure-threshold 3 --recovery-timeout 2s
  A=http://$STARTED_ADDR
  wait_healthy service-a "$A/health"
  say "service B: $b  (fail delay 200ms)"
  say "service A: $A  (3 failures open the circuit for 2s; admin actions on)"
}

# start_chromedriver: chromedriver on a free loopback port, into DRIVER. It runs in a process
# group of its own, which the browsers it starts join, and is recorded by that group's negative
# id, so that common.sh's stop_services stops the browsers with it. With --port=0 chromedriver
# binds the port it picked for IPv4 again for IPv6, which another process may hold by then (it
# exits with "bind() failed: Address already in use"): up to three tries.
start_chromedriver() {
  heading "start chromedriver on a free loopback port"
  local attempt
  for attempt in 1 2 3; do
    try_chromedriver "$WORK/chromedriver.$attempt.log" && break
    ((attempt < 3)) || die "chromedriver exited while starting, three times"
    say "chromedriver exited while starting (its port was taken); again"
  done
  kill -0 -- "-${SERVICE_PIDS[-1]#-}" 2>/dev/null ||
    die "chromedriver is not in a process group of its own"
  say "chromedriver: $DRIVER  ($(chromedriver --version | cut -d' ' -f1,2))"
}

# try_chromedriver LOG: one start of chromedriver; sets DRIVER, or returns 1 if it exited.
try_chromedriver() {
  local log=$1 deadline=$((SECONDS + STARTUP_SECONDS)) port=''
  : >"$log" # exists before the first look for the port
  setsid chromedriver --port=0 >"$log" 2>&1 &
  local pid=$!
  SERVICE_PIDS+=("-$pid") SERVICE_NAMES+=(chromedriver) SERVICE_LOGS+=("$log")
  until [[ -n $port ]]; do
    port=$(grep -oE 'started successfully on port [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || die "chromedriver did not start within ${STARTUP_SECONDS}s"
    sleep 0.1
  done
  DRIVER=http://127.0.0.1:$port
}

run_check() {
  heading "drive the dashboard in headless Chromium"
  mkdir -p "$(dirname "$SCREENSHOT")" "$WORK/chromium-profile"
  timeout "$CHECK_MAX_SECONDS" "$CHECKER" --dashboard "$A/" --webdriver "$DRIVER" \
    --screenshot "$SCREENSHOT" --profile-dir "$WORK/chromium-profile" \
    --browser "$(command -v chromium)" ||
    die "the dashboard did not show what it should (browser-check exited $?)"
  pass "the page showed OPEN with a countdown, then HALF_OPEN, then CLOSED; the admin buttons worked"
}

main() {
  parse_args "$@"
  require_tools cargo curl python3
  resolve_python
  setup_workdir
  install_chromium
  build_binaries
  build_checker
  SCREENSHOT=${SCREENSHOT:-$(dirname "$BIN_DIR")/browser-check/dashboard.png}
  start_services
  start_chromedriver
  run_check
  printf '\n%sbrowser check passed; screenshot in %s%s\n' "$C_GREEN$C_BOLD" "$SCREENSHOT" "$C_RESET"
}

main "$@"
