#!/usr/bin/env python3
"""istio_types.py: the TypeScript file with which scripts/mesh.sh has tsc check deploy/istio/.

Usage: istio_types.py OUT FILE...

Writes to OUT one typed constant for every YAML document in the FILEs: the document as
`export const rN: TN = {...}`, TN being the type @kubernetes-models/istio gives its apiVersion
and kind. tsc's excess-property check then refuses a field Istio's CRDs do not have. Needs
PyYAML (mesh.sh runs it with the virtual environment's Python, where kubernetes-validate brings
it).
"""

import json
import sys

import yaml


def typed_constants(files):
    parts = []
    for path in files:
        for doc in (d for d in yaml.safe_load_all(open(path)) if d):
            n, kind = len(parts), doc["kind"]
            parts.append(f'// {path}: {kind} {doc["metadata"]["name"]}\n'
                         f'import type {{ I{kind} as T{n} }} from "@kubernetes-models/istio/{doc["apiVersion"]}/{kind}";\n'
                         f'export const r{n}: T{n} = {json.dumps(doc, indent=2)};\n')
    return "".join(parts)


def main(argv):
    with open(argv[0], "w") as out:
        out.write(typed_constants(argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
