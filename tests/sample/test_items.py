"""Input rows, stable sharding and quarantine: every row lands in exactly one shard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from cj2.sample.items import RowError, example_from_row, read_shard, shard_of
from tests.sample.inputs import BAD_ROWS, GOOD_IDS, write_input

LABELS = ("A", "B")


def test_both_row_forms_give_the_same_example():
    nested = example_from_row({"question": "q", "responses": ["a", "b"], "label": "A", "source": "s"}, LABELS)
    flat = example_from_row({"question": "q", "response_a": "a", "response_b": "b", "label": "A", "source": "s"}, LABELS)
    assert nested == flat and nested.responses == ["a", "b"]
    assert nested.id.startswith("sha-")  # no id given: one derived from the content
    other = example_from_row({"question": "q", "responses": ["a", "c"], "label": "A", "source": "s"}, LABELS)
    assert other.id != nested.id


@pytest.mark.parametrize(
    "row, kind",
    [
        ({"question": "q", "responses": ["a", "b"], "label": "tie"}, "unverifiable_label"),
        ({"question": "q", "responses": ["a", "b"]}, "unverifiable_label"),
        ({"question": "", "responses": ["a", "b"], "label": "A"}, "invalid_row"),
        ({"question": "q", "responses": ["a", 3], "label": "A"}, "invalid_row"),
        ({"responses": ["a", "b"], "label": "A"}, "invalid_row"),
        (["q", "a", "b"], "invalid_row"),
    ],
)
def test_rows_that_cannot_be_judged_say_why(row, kind):
    with pytest.raises(RowError) as error:
        example_from_row(row, LABELS)
    assert error.value.kind == kind


def test_shard_assignment_does_not_depend_on_the_interpreter_hash_seed():
    code = "from cj2.sample.items import shard_of; print([shard_of(f'id-{i}', 7) for i in range(50)])"
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == [shard_of(f"id-{i}", 7) for i in range(50)]
    assert len(set(shard_of(f"id-{i}", 7) for i in range(50))) == 7  # and it spreads items


def test_every_row_is_in_exactly_one_shard(tmp_path):
    path = str(write_input(tmp_path / "in.jsonl"))
    shards = [read_shard(path, 4, i, LABELS) for i in range(4)]
    ids = [item.id for shard in shards for item in shard.items]
    assert sorted(ids) == sorted(GOOD_IDS)
    assert all(item.id == "flat" or item.example.source in ("math", "chat") for shard in shards for item in shard.items)
    quarantined = [q for shard in shards for q in shard.quarantined]
    assert Counter(q.kind for q in quarantined) == Counter(BAD_ROWS)
    assert len({q.row for q in quarantined}) == len(quarantined) and all(q.file == path for q in quarantined)
    duplicate = next(q for q in quarantined if q.kind == "duplicate_id")
    first = next(item for shard in shards for item in shard.items if item.id == "q1")
    assert f"first at row {first.row}" in duplicate.reason
    for shard in shards:  # input order within a shard
        assert [item.row for item in shard.items] == sorted(item.row for item in shard.items)
