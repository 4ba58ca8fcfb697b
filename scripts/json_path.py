#!/usr/bin/env python3
"""json_path.py: the values of a JSON document at dotted paths ("calls.rejected"), for
common.sh's json_read and json_count. The document comes on standard input.

  json_path.py PATH...        each value on a line of its own: strings raw, everything else as
                              JSON (null, true, 3, {...}), a newline inside written as \\n;
                              exits 1 with "no field 'PATH'" when a path is not in the document
  json_path.py --count PATH   the number at PATH, or 0 when there is none (a status that never
                              occurred has no key in loadgen's summary)

Why python3 and not jq: common.sh's header says.
"""

import json
import sys


def values(doc, paths):
    for path in paths:
        value = doc
        for key in path.split("."):
            if not isinstance(value, dict) or key not in value:
                sys.exit(f"no field {path!r}")
            value = value[key]
        text = value if isinstance(value, str) else json.dumps(value)
        print(text.replace("\n", "\\n"))


def count(doc, path):
    value = doc
    for key in path.split("."):
        value = value.get(key, 0) if isinstance(value, dict) else 0
    print(value)


def main(argv):
    doc = json.load(sys.stdin)
    if argv[:1] == ["--count"]:
        count(doc, argv[1])
    else:
        values(doc, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
