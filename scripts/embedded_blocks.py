#!/usr/bin/env python3
"""embedded_blocks.py: the blocks of text a shell script embeds, found in the syntax tree that
shfmt parses it into, for scripts/check-scripts.sh. Standard library only.

Usage: shfmt --to-json <SCRIPT | embedded_blocks.py SCRIPT MAX_LINES

A block is a here-document (`<<'PY'` ... `PY`) or a quoted word ('...', "...", $'...') that
spans lines, such as the program of a `python3 -c '...'`; its size is its lines that are not
blank. Prints "SCRIPT:LINE: a here-document of N lines" (or "a quoted string") for each block of
more than MAX_LINES, LINE being where the block starts, and exits 1 when there is one.
"""

import json
import sys

# shfmt's operators for `<<` and `<<-`; `<<<` (a here-string) is a quoted word like any other.
HEREDOC_OPS = {61, 62}


def here_document(source, hdoc):
    """The body of a here-document: from its first line to the line before its delimiter."""
    text = source[hdoc["Pos"]["Offset"]:hdoc["End"]["Offset"]].decode()
    return text.rsplit("\n", 1)[0] if "\n" in text else ""


def blocks(source, node):
    """(kind, text, first line) of each here-document and quoted word in shfmt's tree."""
    if isinstance(node, list):
        for child in node:
            yield from blocks(source, child)
        return
    if not isinstance(node, dict):
        return
    if node.get("Op") in HEREDOC_OPS and node.get("Hdoc"):
        yield "a here-document", here_document(source, node["Hdoc"]), node["Pos"]["Line"]
    elif node.get("Type") == "SglQuoted":
        yield "a quoted string", node.get("Value", ""), node["Pos"]["Line"]
    elif node.get("Type") == "DblQuoted":
        # Only its own text: a command substitution inside it is the script's own code.
        text = "".join(part.get("Value", "") for part in node.get("Parts") or []
                       if part.get("Type") == "Lit")
        yield "a quoted string", text, node["Pos"]["Line"]
    for key, child in node.items():
        if key not in ("Pos", "End"):
            yield from blocks(source, child)


def main(argv):
    script, most = argv[0], int(argv[1])
    with open(script, "rb") as f:
        source = f.read()
    tree = json.load(sys.stdin)
    found = 0
    for kind, text, line in blocks(source, tree):
        lines = [text_line for text_line in text.split("\n") if text_line.strip()]
        if len(lines) > most:
            found += 1
            print(f"{script}:{line}: {kind} of {len(lines)} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
