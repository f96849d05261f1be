"""Two evaluation outputs side by side (e.g. loss=margin vs loss=none), in the terminal and Markdown.

    python -m cj2.eval.reporting.compare RUN_A/eval_judgerbenchv2.json RUN_B/eval_judgerbenchv2.json \\
        --names margin none [--markdown compare.md]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from cj2.eval.registry import for_output
from cj2.eval.reporting.report import markdown_table


def headline_numbers(metrics: dict) -> dict[str, float]:
    """The comparable numbers of one saved output: the headline first, then its parts (the benchmark's own choice)."""
    return for_output(metrics).headline_numbers(metrics)


def compare_rows(first: dict, second: dict, names: Sequence[str]) -> list[dict]:
    if first.get("benchmark") != second.get("benchmark"):
        raise ValueError(f"different benchmarks: {first.get('benchmark')} vs {second.get('benchmark')}")
    a, b = headline_numbers(first), headline_numbers(second)
    return [{"metric": key, names[0]: a[key], names[1]: b[key], "delta": b[key] - a[key]} for key in a if key in b]


def main(argv: Sequence[str] = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--names", nargs=2, default=None, help="column names (default: the files' parent folders)")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    names = args.names or [args.first.parent.name or str(args.first), args.second.parent.name or str(args.second)]
    if names[0] == names[1]:
        names = [f"{names[0]} (1)", f"{names[1]} (2)"]
    rows = compare_rows(json.loads(args.first.read_text()), json.loads(args.second.read_text()), names)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{args.first} vs {args.second}")
    for column in rows[0]:
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in rows:
        table.add_row(row["metric"], *(f"{row[c]:+.2f}" if c == "delta" else f"{row[c]:.2f}" for c in list(row)[1:]))
    Console(width=120).print(table)
    if args.markdown:
        from cj2.utils.atomic import atomic_write_text

        atomic_write_text(args.markdown, markdown_table(rows))
    return rows


if __name__ == "__main__":
    main()
