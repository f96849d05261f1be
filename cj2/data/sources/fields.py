"""Field specs: how a component's config says where a record field comes from in a source row.

A spec is a string, so that a new dataset is a config entry, not code:

- ``question`` or ``chosen.answer`` or ``turns.0``: a column, dotted into nested dicts/lists;
- ``"{instruction}\\n\\n{input}"``: a template joining columns (blank parts are dropped);
- ``const:A``: a constant (e.g. RMB's ``chosen`` is always the better response);
- ``majority:annotator1,annotator2,annotator3``: the most frequent value of several columns
  (PandaLM's three annotators); a tie between values has no majority;
- ``chat:conversation_input``: a list of ``{role, content}`` messages written out as a dialogue
  (a single user turn is just its content); ``chat:chosen[:-1]`` takes a slice of the list first
  (the conversation before its last reply: Skywork, UltraFeedback chats);
- ``before_last:chosen:SEP`` / ``after_last:chosen:SEP``: the text of a column before / after the
  last occurrence of SEP (everything after the column's colon; it may hold colons and newlines),
  stripped; a text without SEP is an error. HH-RLHF: ``after_last:chosen:\n\nAssistant:`` is
  the last assistant turn, ``before_last:chosen:\n\nAssistant:`` the dialogue it answers;
- ``min_by:answers:rank:answer`` / ``max_by:answers:rank:answer``: in the list ``answers``, the
  ``answer`` of the item with the smallest / largest numeric ``rank`` (Nectar's best and worst of
  seven); a tie for that place is an error (no single item);
- ``re:usermsg:\\[Query\\]: (.*?)\\n\\*\\*\\*``: the first group (else the whole match) of a Python
  regular expression searched in a column's text, ``.`` matching newlines, stripped; a text it does
  not match is an error. For sources that publish a whole judge prompt or judgment as one text
  (Auto-J's ``usermsg``, PandaLM's ``input_sequence``, JudgeLM's score line before its judgment);
- ``compare:score.0,score.1``: ``A`` when the first number is larger, ``B`` when the second is,
  ``tie`` when equal (JudgeLM's two GPT-4 scores); true/false count as 1/0 (PKU-SafeRLHF's
  ``is_response_0_safe``, ``is_response_1_safe``: ``A`` when only the first is safe); a value that
  is neither a number nor true/false is an error;
- ``turns:prompt:<extra_id_1>``: a column holding a whole dialogue as one text, its turns split at
  SEP, each turn after the first opening with its role's name on a line of its own (``User``,
  ``Assistant``; the first turn is the user's), written out as ``chat:`` writes a dialogue
  (HelpSteer2's multi-turn prompts).
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


_SLICE = re.compile(r"^(.*)\[(-?\d*):(-?\d*)\]$")


def _chat(row: Any, spec: str) -> str:
    """``col`` or ``col[a:b]``: the messages (or a slice of them) written out as a dialogue."""
    path, cut = spec, None
    if m := _SLICE.match(spec):
        path, cut = m.group(1), slice(*(int(x) if x else None for x in m.group(2, 3)))
    messages = _dig(row, path)
    if cut is not None:
        if not isinstance(messages, list):
            raise FieldError(f"field {path!r} is not a list of {{role, content}} messages")
        messages = messages[cut]
        if not messages:
            raise FieldError(f"field {spec!r} is an empty slice of {path!r}")
    return _dialogue(messages, spec)


def _text_column(row: Any, spec: str, argument: str) -> tuple[str, str, str]:
    """``COLUMN:ARGUMENT`` -> (column, argument, the column's text)."""
    path, sep, value = spec.partition(":")
    if not sep or not value:
        raise FieldError(f"spec {spec!r} needs a column and a {argument.lower()}: COLUMN:{argument}")
    text = _dig(row, path)
    if not isinstance(text, str):
        raise FieldError(f"field {path!r} is a {type(text).__name__}, not text")
    return path, value, text


def _split_last(row: Any, spec: str, before: bool) -> str:
    path, separator, text = _text_column(row, spec, "SEPARATOR")
    head, found, tail = text.rpartition(separator)
    if not found:
        raise FieldError(f"field {path!r} does not contain {separator!r}")
    return (head if before else tail).strip()


def _extreme_by(row: Any, spec: str, largest: bool) -> Any:
    parts = spec.split(":")
    if len(parts) != 3 or not all(parts):
        raise FieldError(f"spec {spec!r} needs LIST:KEY:FIELD")
    path, key, field = parts
    items = _dig(row, path)
    if not isinstance(items, list) or not items:
        raise FieldError(f"field {path!r} is not a non-empty list")
    ranked = []
    for i, item in enumerate(items):
        value = _dig(item, key)
        try:
            ranked.append((float(value), i))
        except (TypeError, ValueError):
            raise FieldError(f"field {path}.{i}.{key} is {value!r}, not a number") from None
    best = (max if largest else min)(v for v, _ in ranked)
    at = [i for v, i in ranked if v == best]
    if len(at) > 1:
        raise FieldError(f"items {at} of {path!r} tie for the {'largest' if largest else 'smallest'} {key!r} ({best:g})")
    return _dig(items[at[0]], field)


def _regex(row: Any, spec: str) -> str:
    path, pattern, text = _text_column(row, spec, "PATTERN")
    try:
        found = re.search(pattern, text, re.DOTALL)
    except re.error as e:
        raise FieldError(f"spec {spec!r}: bad pattern ({e})") from None
    if found is None:
        raise FieldError(f"field {path!r} does not match {pattern!r}")
    return (found.group(1) if found.re.groups else found.group(0)).strip()


def _compare(row: Any, spec: str) -> str:
    paths = [p.strip() for p in spec.split(",")]
    if len(paths) != 2 or not all(paths):
        raise FieldError(f"spec {spec!r} needs two columns: FIRST,SECOND")
    values = []
    for path in paths:
        value = _dig(row, path)
        try:
            values.append(float(value))  # True / False: 1 / 0
        except (TypeError, ValueError):
            raise FieldError(f"field {path!r} is {value!r}, not a number") from None
    first, second = values
    return "A" if first > second else "B" if second > first else "tie"


def _turns(row: Any, spec: str) -> str:
    """``COLUMN:SEP``: the column's dialogue split into turns at SEP (module docstring), as a ``chat:`` dialogue."""
    path, separator, text = _text_column(row, spec, "SEPARATOR")
    first, *rest = text.split(separator)
    messages = [{"role": "user", "content": first.strip()}]
    for number, turn in enumerate(rest, 2):
        role, _, content = turn.partition("\n")
        if role.strip().lower() not in ("user", "assistant"):
            raise FieldError(f"field {path!r}: turn {number} opens with {role.strip()[:20]!r}, not User or Assistant")
        messages.append({"role": role.strip().lower(), "content": content.strip()})
    return _dialogue(messages, path)


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
        return _chat(row, spec[len("chat:"):])
    for prefix, before in (("before_last:", True), ("after_last:", False)):
        if spec.startswith(prefix):
            return _split_last(row, spec[len(prefix):], before)
    for prefix, largest in (("min_by:", False), ("max_by:", True)):
        if spec.startswith(prefix):
            return _extreme_by(row, spec[len(prefix):], largest)
    if spec.startswith("re:"):
        return _regex(row, spec[len("re:"):])
    if spec.startswith("compare:"):
        return _compare(row, spec[len("compare:"):])
    if spec.startswith("turns:"):
        return _turns(row, spec[len("turns:"):])
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
