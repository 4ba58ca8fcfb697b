# shellcheck shell=bash
# ceiling-targets.sh: the targets every mode of ceiling.sh measures (the timed table, the flame
# graph, the instruction counts), after common.sh. Sourced by ceiling.sh, not run; its header
# says what each target is.
#
# What it gives the modes:
#   * TARGET_NAMES, in the order of every round, with TARGET_LABEL, and, once started,
#     TARGET_URL (the path each is measured at) and TARGET_PID (the process whose CPU counts);
#   * require_nginx and build_floor, the two targets that are not the workspace's services;
#   * start_backend (the B every proxy calls), start_target NAME [WRAPPER...] (a target run by
#     valgrind, say), start_targets (all of them, or A alone for the flame graph);
#   * target_pids, the processes whose CPU counts for a target (nginx: its workers).
# nginx's configuration is the template ceiling-nginx.conf beside this file.

# Globals set here are read by the modes and by ceiling.sh (TARGET_*, FLOOR_BIN, NGINX_*).
# shellcheck disable=SC2034

# Wider than the load, so the production profile's bulkhead refuses nothing.
PRODUCTION_BULKHEAD=64
# nginx's idle connections to B, per worker: more than the load keeps busy.
NGINX_KEEPALIVE=64
NGINX_TEMPLATE=$SCRIPTS/ceiling-nginx.conf

# The targets, in the order of every round; start_targets fills in each one's URL and the pid
# whose CPU counts (nginx's workers are looked up at each run).
TARGET_NAMES=(b a-article a-production nginx floor-reqwest floor-hyper)
declare -A TARGET_URL TARGET_LABEL TARGET_PID
TARGET_LABEL=([b]='B alone' [a-article]='A article' [a-production]='A production' [nginx]='nginx'
  [floor-reqwest]='floor reqwest' [floor-hyper]='floor hyper')
NGINX_PID=''

# How nginx runs: workers as many as A has runtime threads (start_targets), a master process.
NGINX_WORKERS=1
NGINX_MASTER=on

# labelled_targets: "name=label", a line per target in the order of every round, for the
# reports' Python, so that the labels are written here only.
labelled_targets() {
  local name
  for name in "${TARGET_NAMES[@]}"; do
    printf '%s=%s\n' "$name" "${TARGET_LABEL[$name]}"
  done
}

# ---- the two targets that are not the workspace's services ------------------------------------

# build_alone PACKAGE: PACKAGE's binary from --bin-dir when DIR holds one, otherwise built from
# the workspace on its own (built with the services, cargo would unify their dependencies'
# features with its own, and the services' binaries would differ from the ones built alone);
# its path in BUILT_ALONE.
build_alone() {
  if [[ -n $BIN_DIR && -x $BIN_DIR/$1 ]]; then
    BUILT_ALONE=$BIN_DIR/$1
    return
  fi
  heading "build $1"
  say "\$ cargo build --release -p $1"
  (cd "$ROOT" && cargo build --release -p "$1") || die "cargo build of $1 failed"
  BUILT_ALONE=$(target_dir)/release/$1
}

# build_floor: proxy-floor (build_alone), into FLOOR_BIN.
build_floor() {
  build_alone proxy-floor
  FLOOR_BIN=$BUILT_ALONE
}

# require_nginx: Debian's nginx, installed when missing (as observe.sh installs prometheus).
require_nginx() {
  heading "nginx"
  NGINX=$(command -v nginx || true)
  [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
  if [[ -z $NGINX ]]; then
    apt_install nginx
    NGINX=/usr/sbin/nginx
  fi
  say "$("$NGINX" -v 2>&1)"
}

# ---- starting them -----------------------------------------------------------------------------

# start_targets: B and every target in front of it; only A article for the flame graph.
start_targets() {
  heading "services"
  start_backend
  TARGET_PID[b]=$B_PID
  TARGET_URL[b]=http://$B_ADDR/api
  start_target a-article
  [[ -n $FLAMEGRAPH ]] && return
  start_target a-production
  runtime_threads "${TARGET_PID[a-article]}"
  NGINX_WORKERS=$A_THREADS
  start_target nginx
  start_target floor-reqwest
  start_target floor-hyper
}

# start_backend: the service B every proxy calls, at B_ADDR, its pid in B_PID.
start_backend() {
  start_service service-b "$WORK/service-b.log" "$BIN_DIR/service-b"
  B_ADDR=$STARTED_ADDR
  B_PID=${SERVICE_PIDS[-1]}
  wait_healthy service-b "http://$B_ADDR/health"
  say "service B on $B_ADDR"
}

# start_target NAME [WRAPPER...]: the target NAME, run by the WRAPPER command when one is given
# (valgrind, say), each proxy in front of the B at B_ADDR, B alone as a B of its own; sets
# TARGET_PID[NAME] and TARGET_URL[NAME]. The floors proxy any path; /call, as on A.
start_target() {
  local name=$1
  shift
  case $name in
    b) start_answering b /api /health "$@" "$BIN_DIR/service-b" ;;
    a-article) start_answering a-article /call /health "$@" "$BIN_DIR/service-a" \
      --service-b-url "http://$B_ADDR" ;;
    a-production) start_answering a-production /call /health "$@" "$BIN_DIR/service-a" \
      --service-b-url "http://$B_ADDR" --profile production --max-concurrent "$PRODUCTION_BULKHEAD" ;;
    nginx)
      start_nginx "$@"
      TARGET_PID[nginx]=$NGINX_PID
      ;;
    floor-reqwest | floor-hyper) start_answering "$name" /call /call "$@" "$FLOOR_BIN" \
      --service-b-url "http://$B_ADDR" --client "${name#floor-}" ;;
    *) die "no target named $name" ;;
  esac
  say "${TARGET_LABEL[$name]} on ${TARGET_URL[$name]#http://}"
}

# start_answering NAME PATH HEALTH_PATH COMMAND...: COMMAND as the target NAME, measured at PATH,
# once it answers HEALTH_PATH.
start_answering() {
  local name=$1 path=$2 health=$3
  shift 3
  start_service "$name" "$WORK/$name.log" "$@"
  TARGET_PID[$name]=${SERVICE_PIDS[-1]}
  TARGET_URL[$name]=http://$STARTED_ADDR$path
  wait_healthy "$name" "http://$STARTED_ADDR$health"
}

# runtime_threads PID: how many tokio runtime workers the process runs, into A_THREADS (tokio
# names them tokio-rt-worker; releases before 1.44 tokio-runtime-worker, cut to 15 characters).
runtime_threads() {
  local comm
  A_THREADS=0
  for comm in /proc/"$1"/task/*/comm; do
    case $(<"$comm") in
      tokio-rt-worker | tokio-runtime-w*) A_THREADS=$((A_THREADS + 1)) ;;
    esac
  done
  ((A_THREADS > 0)) || die "service A (pid $1) shows no tokio runtime worker thread"
}

# ---- nginx ---------------------------------------------------------------------------------------

# free_port: a port no one listens on now, for nginx, which cannot report a port the kernel
# chose; start_nginx tries again if another process takes it first.
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx_config PORT: NGINX_TEMPLATE filled in: a reverse proxy on 127.0.0.1:PORT to B with
# NGINX_WORKERS workers (and a master process unless NGINX_MASTER is off), its files in
# $WORK/nginx.
nginx_config() {
  local port=$1 user=''
  # As root, nginx's master runs its workers as an unprivileged user, whose group differs by
  # system.
  ((EUID == 0)) && [[ $NGINX_MASTER == on ]] && user="user nobody $(id -gn nobody);"
  sed -e '/^#/d' -e "s|@USER@|$user|" -e "s|@WORKERS@|$NGINX_WORKERS|" \
    -e "s|@MASTER@|$NGINX_MASTER|" -e "s|@DIR@|$WORK/nginx|g" -e "s|@B_ADDR@|$B_ADDR|" \
    -e "s|@KEEPALIVE@|$NGINX_KEEPALIVE|" -e "s|@PORT@|$port|" "$NGINX_TEMPLATE"
}

# start_nginx [WRAPPER...]: nginx on a free port, run by WRAPPER when one is given, its first
# process's pid in NGINX_PID (stopped by the EXIT trap with the services).
start_nginx() {
  local port attempt config=$WORK/nginx/nginx.conf
  mkdir -p "$WORK/nginx"
  for attempt in 1 2; do
    port=$(free_port)
    nginx_config "$port" >"$config"
    ! grep -q '@[A-Z_]*@' "$config" || die "$NGINX_TEMPLATE has a placeholder left after filling in"
    "$NGINX" -t -q -c "$config" -p "$WORK/nginx" 2>>"$WORK/nginx/error.log" ||
      die "nginx refuses the generated config (see $WORK/nginx/error.log)"
    "$@" "$NGINX" -c "$config" -p "$WORK/nginx" >>"$WORK/nginx/out.log" 2>&1 &
    NGINX_PID=$!
    SERVICE_PIDS+=("$NGINX_PID") SERVICE_NAMES+=(nginx) SERVICE_LOGS+=("$WORK/nginx/error.log")
    if nginx_answers "$port"; then
      TARGET_URL[nginx]=http://127.0.0.1:$port/api
      say "nginx: $NGINX_WORKERS worker(s), master process $NGINX_MASTER, keepalive $NGINX_KEEPALIVE to B"
      return
    fi
    say "nginx did not start on port $port (attempt $attempt): $(tail -n 1 "$WORK/nginx/error.log")"
    forget_last_service
  done
  die "nginx did not start, twice"
}

# nginx_answers PORT: whether nginx answers B's /health through the proxy within
# STARTUP_SECONDS, while it runs.
nginx_answers() {
  local deadline=$((SECONDS + STARTUP_SECONDS))
  until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/health" 2>/dev/null; do
    kill -0 "$NGINX_PID" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# target_pids NAME: the processes whose CPU counts for NAME: nginx's workers (the master serves
# no request), the single process otherwise.
target_pids() {
  if [[ $1 == nginx ]]; then
    local workers
    # ps right-aligns the pids: word splitting trims them.
    read -ra workers <<<"$(ps -o pid= --ppid "$NGINX_PID" | tr '\n' ' ')"
    ((${#workers[@]} > 0)) || die "nginx has no workers"
    printf '%s\n' "${workers[@]}"
  else
    printf '%s\n' "${TARGET_PID[$1]}"
  fi
}
