"""An evaluation's table, in the terminal (rich) and as Markdown, with the unparsed counts in view."""

from __future__ import annotations

from collections.abc import Sequence

from cj2.eval.core.result import EvalResult


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def markdown_table(rows: Sequence[dict[str, object]]) -> str:
    if not rows:
        return ""
    columns: list[str] = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def headline_line(result: EvalResult) -> str:
    if result.protocol.get("scoring") == "verdict_logits":
        p = result.protocol
        return (f"{result.benchmark}: {result.headline_name} {result.headline:.2f} over {result.total} teacher-forced sequence(s); "
                f"verdict not located {result.unparsed}; prompt {p['prompt']} ({p['verdict_format']})")
    line = f"{result.benchmark}: {result.headline_name} {result.headline:.2f} over {result.total} judged item(s); unparsed {result.unparsed}"
    if result.missing:
        line += f" (of which {result.missing} had no prediction)"
    if result.protocol:
        p = result.protocol
        line += f"; prompt {p['prompt']}, parser {p['parser']} ({p['verdict_format']})"
    return line


def markdown_report(result: EvalResult) -> str:
    parts = [f"# {result.benchmark}\n", headline_line(result) + "\n", markdown_table(result.rows)]
    position = result.metrics.get("position")
    if position:
        parts.append("Position bias:\n\n" + markdown_table([{"measure": k, "value": v} for k, v in position.items()]))
    if result.notes:
        parts.append("Notes:\n" + "".join(f"- {n}\n" for n in result.notes))
    return "\n".join(parts)


def print_report(result: EvalResult) -> None:
    from rich.console import Console
    from rich.table import Table

    columns = list(result.rows[0]) if result.rows else []
    cells = [[_cell(row.get(c, "")) for c in columns] for row in result.rows]
    needed = sum(max([len(c)] + [len(r[i]) for r in cells]) + 3 for i, c in enumerate(columns)) + 1
    # Rich would truncate column names in a narrow terminal; a wrapped line reads better than "acc…".
    console = Console(width=max(Console().width, needed))
    table = Table(title=result.benchmark)
    for c in columns:
        table.add_column(c, justify="left" if c == columns[0] else "right")
    for row in cells:
        table.add_row(*row)
    console.print(table)
    style = "bold red" if result.unparsed else "bold"
    console.print(headline_line(result), style=style)
    for note in result.notes:
        console.print(f"note: {note}", style="yellow")
