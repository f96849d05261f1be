"""A judge-example input file with every kind of row the runner must handle."""

from __future__ import annotations

import json
from pathlib import Path

GOOD_IDS = [f"q{i}" for i in range(6)] + ["flat"]
BAD_ROWS = {"invalid_json": 1, "unverifiable_label": 1, "duplicate_id": 1, "invalid_row": 3}


def write_input(path: Path) -> Path:
    rows: list[str] = []
    for i in range(6):
        example = {"question": f"What is {i} + {i}?", "responses": [f"{2 * i}", f"{2 * i + 1}"], "label": "AB"[i % 2], "source": "math" if i < 3 else "chat", "id": f"q{i}"}
        rows.append(json.dumps(example))
        if i == 2:
            rows.append("{not json")
    rows.append(json.dumps({"question": "Flat form?", "response_a": "yes", "response_b": "no", "label": "B", "source": "flat", "id": "flat"}))
    rows.append(json.dumps({"question": "Tie?", "responses": ["a", "b"], "label": "tie"}))
    rows.append(json.dumps({"question": "Again", "responses": ["a", "b"], "label": "A", "id": "q1"}))
    rows.append(json.dumps({"question": "One response", "responses": ["a"], "label": "A"}))
    rows.append("")  # blank lines are skipped, not quarantined
    rows.append("[1, 2]")
    rows.append(json.dumps({"responses": ["a", "b"], "label": "A"}))
    path.write_text("\n".join(rows) + "\n")
    return path


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in records}
