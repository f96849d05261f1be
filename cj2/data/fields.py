"""Field specs: how a component's config says where a record field comes from in a source row.

A spec is a string, so that a new dataset is a config entry, not code:

- ``question`` or ``chosen.answer`` or ``turns.0``: a column, dotted into nested dicts/lists;
- ``"{instruction}\\n\\n{input}"``: a template joining columns (blank parts are dropped);
- ``const:A``: a constant (e.g. RMB's ``chosen`` is always the better response);
- ``majority:annotator1,annotator2,annotator3``: the most frequent value of several columns
  (PandaLM's three annotators); a tie between values has no majority;
- ``chat:conversation_input``: a list of ``{role, content}`` messages written out as a dialogue
  (a single user turn is just its content).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class FieldError(ValueError):
    """A field a row lacks, or holds in an unusable shape; the message names the field."""


def _dig(row: Any, path: str) -> Any:
    value = row
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, (list, tuple)) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            raise FieldError(f"missing field {path!r}")
    if value is None:
        raise FieldError(f"field {path!r} is null")
    return value


def _dialogue(messages: Any, path: str) -> str:
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "content" in m for m in messages):
        raise FieldError(f"field {path!r} is not a list of {{role, content}} messages")
    if len(messages) == 1:
        return str(messages[0]["content"])
    return "\n\n".join(f"{str(m.get('role', 'user')).capitalize()}: {m['content']}" for m in messages)


def _majority(row: Any, columns: str) -> Any:
    votes = Counter(str(_dig(row, c.strip())) for c in columns.split(","))
    (top, count), *rest = votes.most_common()
    if rest and rest[0][1] == count:
        raise FieldError(f"no majority among {columns!r} (votes {dict(votes)})")
    return top


def _fill(row: Any, spec: str) -> str:
    """The template with its columns filled in; a blank column takes its leading separator with it."""
    pieces = _PLACEHOLDER.split(spec)  # literal, column, literal, column, ..., literal
    out = [pieces[0]]
    for i in range(1, len(pieces), 2):
        value, following = str(_dig(row, pieces[i])), pieces[i + 1]
        if value.strip():
            out += [value, following]
        elif len(out) > 1:
            out[-1] = following  # the separator before the blank column goes
    return "".join(out).strip()


def resolve(row: Any, spec: str) -> Any:
    """The value ``spec`` selects in ``row``; raises :class:`FieldError` naming the field."""
    if spec.startswith("const:"):
        return spec[len("const:"):]
    if spec.startswith("majority:"):
        return _majority(row, spec[len("majority:"):])
    if spec.startswith("chat:"):
        path = spec[len("chat:"):]
        return _dialogue(_dig(row, path), path)
    if "{" in spec:
        return _fill(row, spec)
    return _dig(row, spec)


def resolve_text(row: Any, spec: str) -> str:
    """A text field: must be a non-empty string (numbers are written out)."""
    value = resolve(row, spec)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(f"a {type(value).__name__}, not text")
    return value
