"""A markdown table with every column padded to its widest cell, for the scripts' reports."""


def markdown_table(head, rows, right_aligned=False):
    """`head` and `rows` (lists of strings) as the lines of a markdown table, joined.

    The first column is left-aligned; with `right_aligned` the others are right-aligned, and
    the rule under the head says so with a `:`.
    """
    widths = [max(len(row[i]) for row in rows + [head]) for i in range(len(head))]

    def right(i):
        return right_aligned and i > 0

    def line(cells):
        return "| " + " | ".join(c.rjust(widths[i]) if right(i) else c.ljust(widths[i])
                                 for i, c in enumerate(cells)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if right(i) else "-" * (w + 2)
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), rule] + [line(row) for row in rows])
