#!/usr/bin/env bash
# check-layers.sh: checks that no library of the workspace has an import circle between its own
# modules, with cargo-modules (installed when missing). Every import should point down, from the
# handles to the vocabulary; a circle means two modules can only be read together.
#
#   scripts/check-layers.sh             every library: breaker, service-kit, service-a, service-b
#   scripts/check-layers.sh PACKAGE...  only those
#
# Exits non-zero naming each package that has a circle, with the circle cargo-modules found.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PACKAGES=(breaker service-kit service-a service-b)
# The version this script is written for (its flags), and the last that builds with the
# workspace's Rust 1.95 toolchain.
MODULES_VERSION=0.27.0

OUTPUT=$(mktemp)
trap 'rm -f "$OUTPUT"' EXIT

die() {
  printf 'check-layers.sh: %s\n' "$*" >&2
  exit 1
}

ensure_cargo_modules() {
  if command -v cargo-modules >/dev/null; then
    return
  fi
  printf 'installing cargo-modules %s (a few minutes)\n' "$MODULES_VERSION"
  cargo install cargo-modules --locked --version "$MODULES_VERSION"
}

# acyclic PACKAGE: true when the library of PACKAGE has no import circle between its modules;
# prints each circle otherwise. cargo-modules draws the graph of `use` edges between the
# package's own modules (functions, types and traits folded into their module; no dependencies,
# no standard library); a strongly connected component of more than one module is a circle.
# (Its own `--acyclic` judges items, where any type whose method names the type is a circle.)
acyclic() {
  RUST_LIB_BACKTRACE=0 cargo modules dependencies --package "$1" --lib \
    --no-externs --no-sysroot --no-fns --no-traits --no-types --no-owns >"$OUTPUT" 2>&1 ||
    return 1
  python3 - "$OUTPUT" <<'PY'
import re, sys
edges = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s*"([^"]+)" -> "([^"]+)" \[label="uses"', line)
    if m and m.group(1) != m.group(2):
        edges.setdefault(m.group(1), set()).add(m.group(2))
        edges.setdefault(m.group(2), set())
# Tarjan's strongly connected components, iteratively.
index, low, on_stack, stack, circles, counter = {}, {}, set(), [], [], [0]
for root in sorted(edges):
    if root in index:
        continue
    work = [(root, iter(sorted(edges[root])))]
    index[root] = low[root] = counter[0]; counter[0] += 1
    stack.append(root); on_stack.add(root)
    while work:
        node, children = work[-1]
        child = next(children, None)
        if child is None:
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop(); on_stack.discard(top); component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
        elif child not in index:
            index[child] = low[child] = counter[0]; counter[0] += 1
            stack.append(child); on_stack.add(child)
            work.append((child, iter(sorted(edges[child]))))
        elif child in on_stack:
            low[node] = min(low[node], index[child])
with open(sys.argv[1], "w") as out:
    for circle in circles:
        out.write("circle of %d modules: %s\n" % (len(circle), " <-> ".join(circle)))
        inside = set(circle)
        for source in circle:
            for target in sorted(edges[source] & inside):
                out.write("    %s uses %s\n" % (source, target))
sys.exit(1 if circles else 0)
PY
}

main() {
  local packages=("$@") failed=() package
  [[ ${#packages[@]} -gt 0 ]] || packages=("${PACKAGES[@]}")
  ensure_cargo_modules
  for package in "${packages[@]}"; do
    if acyclic "$package"; then
      printf 'ok       %s: no import circle\n' "$package"
    else
      printf 'CIRCLE   %s:\n' "$package"
      grep -v '^\s*$' "$OUTPUT" | sed 's/^/           /'
      failed+=("$package")
    fi
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    die "import circles in: ${failed[*]}"
  fi
}

main "$@"
