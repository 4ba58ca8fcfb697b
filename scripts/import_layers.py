#!/usr/bin/env python3
"""import_layers.py: the Python of scripts/check-layers.sh, standard library only.

  import_layers.py targets [PACKAGE...]
      Reads `cargo metadata --format-version 1 --no-deps` on standard input and prints one line
      "PACKAGE KIND NAME MODULES" for each library and binary target of the workspace's
      packages (only PACKAGEs when named), KIND being lib or bin, MODULES "several" when the
      target's root file declares a module (`mod name;` or `mod name {`) and "one" when it
      declares none, which leaves no import between modules to check. Exits 1 naming a PACKAGE
      that is not in the workspace.

  import_layers.py circles FILE
      Reads the graph cargo-modules drew into FILE (`cargo modules dependencies`, DOT: one
      `"a" -> "b" [label="uses"...]` line an import) and rewrites FILE with each circle: a
      strongly connected component of more than one module, its modules and the imports
      between them. Exits 1 when there is a circle, 0 otherwise.
"""

import json
import re
import sys

MODULE = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*[;{]", re.MULTILINE)
USES = re.compile(r'\s*"([^"]+)" -> "([^"]+)" \[label="uses"')


def targets(metadata, wanted):
    members = set(metadata["workspace_members"])
    packages = [p for p in metadata["packages"] if p["id"] in members]
    unknown = set(wanted) - {p["name"] for p in packages}
    if unknown:
        sys.exit(f"not a package of the workspace: {' '.join(sorted(unknown))}")
    for package in packages:
        if wanted and package["name"] not in wanted:
            continue
        for target in package["targets"]:
            kinds = set(target["kind"])
            kind = "bin" if "bin" in kinds else "lib" if kinds & {"lib", "rlib", "proc-macro"} else None
            if kind is None:
                continue
            with open(target["src_path"]) as f:
                modules = "several" if MODULE.search(f.read()) else "one"
            print(package["name"], kind, target["name"], modules)


def import_edges(path):
    """Each module's imports of the package's other modules, from cargo-modules' graph."""
    edges = {}
    with open(path) as f:
        for line in f:
            m = USES.match(line)
            if m and m.group(1) != m.group(2):
                edges.setdefault(m.group(1), set()).add(m.group(2))
                edges.setdefault(m.group(2), set())
    return edges


def strongly_connected(edges):
    """Tarjan's strongly connected components of more than one node, iteratively, each sorted."""
    index, low, on_stack, stack, circles, counter = {}, {}, set(), [], [], [0]
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
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
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return circles


def circles(path):
    edges = import_edges(path)
    found = strongly_connected(edges)
    with open(path, "w") as out:
        for circle in found:
            out.write("circle of %d modules: %s\n" % (len(circle), " <-> ".join(circle)))
            inside = set(circle)
            for source in circle:
                for target in sorted(edges[source] & inside):
                    out.write("    %s uses %s\n" % (source, target))
    return 1 if found else 0


def main(argv):
    if argv[:1] == ["targets"]:
        targets(json.load(sys.stdin), argv[1:])
        return 0
    if argv[:1] == ["circles"] and len(argv) == 2:
        return circles(argv[1])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
