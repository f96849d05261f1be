"""Field specs and loaders on small local files, every kind of bad row counted and located."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from cj2.config.schema import DataComponentConfig
from cj2.data.records import JudgeExample, RejectedRow, TrainingSample
from cj2.data.sources.fields import FieldError, resolve
from cj2.data.sources.loaders import load_examples
from tests.data.helpers import write_jsonl


def component(**values):
    return OmegaConf.merge(OmegaConf.structured(DataComponentConfig), values)


@pytest.mark.parametrize(
    "row, spec, expected",
    [
        ({"a": {"b": [10, 20]}}, "a.b.1", 20),
        ({"instruction": "Do X.", "input": ""}, "{instruction}\n\n{input}", "Do X."),
        ({"instruction": "Do X.", "input": "data"}, "Q: {instruction}\n\n{input}", "Q: Do X.\n\ndata"),
        ({}, "const:A", "A"),
        ({"x": 1, "y": 2, "z": 2}, "majority:x,y,z", "2"),
        ({"c": [{"role": "user", "content": "hi"}]}, "chat:c", "hi"),
        ({"c": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "and?"}]},
         "chat:c", "User: hi\n\nAssistant: yo\n\nUser: and?"),
        # A slice of the messages: the conversation before its last reply.
        ({"c": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}, "chat:c[:-1]", "hi"),
        ({"c": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"},
                {"role": "assistant", "content": "d"}]}, "chat:c[:-1]", "User: a\n\nAssistant: b\n\nUser: c"),
        # HH-RLHF transcripts: the last assistant turn, and the dialogue before it (SEP may hold colons).
        ({"t": "\n\nHuman: Hi\n\nAssistant: Yo\n\nHuman: And?\n\nAssistant: Done."}, "after_last:t:\n\nAssistant:", "Done."),
        ({"t": "\n\nHuman: Hi\n\nAssistant: Yo\n\nHuman: And?\n\nAssistant: Done."}, "before_last:t:\n\nAssistant:",
         "Human: Hi\n\nAssistant: Yo\n\nHuman: And?"),
        # Nectar's ranked answers, in any list order: best (smallest rank) and worst.
        ({"ans": [{"a": "mid", "rank": 2}, {"a": "worst", "rank": 3.0}, {"a": "best", "rank": 1}]}, "min_by:ans:rank:a", "best"),
        ({"ans": [{"a": "mid", "rank": 2}, {"a": "worst", "rank": 3.0}, {"a": "best", "rank": 1}]}, "max_by:ans:rank:a", "worst"),
        # A section of a whole prompt (Auto-J usermsg): the first group, across lines; no group: the whole match.
        ({"u": "Data:\n[Query]: Two\nlines\n***\n[Response 1]: x"}, r"re:u:\[Query\]: (.*?)\n\*\*\*", "Two\nlines"),
        ({"o": "2\n\n### Reason: because"}, r"re:o:^\s*\S+", "2"),
        # JudgeLM's two scores -> A / B / tie.
        ({"score": [2.0, 8.0]}, "compare:score.0,score.1", "B"),
        ({"score": ["9", 8]}, "compare:score.0,score.1", "A"),
        ({"score": [7, 7.0]}, "compare:score.0,score.1", "tie"),
    ],
)
def test_field_specs(row, spec, expected):
    assert resolve(row, spec) == expected


@pytest.mark.parametrize("row, spec, message", [
    ({"a": 1}, "b", "missing field 'b'"),
    ({"a": None}, "a", "is null"),
    ({"x": 1, "y": 2}, "majority:x,y", "no majority"),
    ({"a": [1]}, "a.3", "missing field 'a.3'"),
    ({"t": "no turns here"}, "after_last:t:\n\nAssistant:", "does not contain"),
    ({"ans": [{"a": "x", "rank": 1}, {"a": "y", "rank": 1}]}, "min_by:ans:rank:a", "tie for the smallest 'rank'"),
    ({"ans": [{"a": "x", "rank": "first"}]}, "max_by:ans:rank:a", "not a number"),
    ({"c": [{"role": "user", "content": "hi"}]}, "chat:c[:-1]", "empty slice"),
    ({"u": "no markers"}, r"re:u:\[Query\]: (.*)", "does not match"),
    ({"u": 3}, "re:u:x", "not text"),
    ({"score": [1, "high"]}, "compare:score.0,score.1", "not a number"),
    ({"score": [1]}, "compare:score.0,score.1", "missing field 'score.1'"),
])
def test_field_errors_name_the_field(row, spec, message):
    with pytest.raises(FieldError, match=message):
        resolve(row, spec)


def test_jsonl_bad_rows_are_located_and_counted(tmp_path):
    good = {"q": "What is 2+2?", "a": "4", "b": "5", "y": 1}
    path = write_jsonl(tmp_path / "pairs.jsonl", [
        good,                                  # line 1 kept (label 1 -> A)
        "{not json",                            # line 2 malformed
        {"q": "Q2", "a": "x", "y": 2},          # line 3 missing response_b
        {"q": "Q3", "a": "x", "b": "y", "y": 7},  # line 4 label not in map
        {"q": "Q4", "a": "  ", "b": "y", "y": 1},  # line 5 empty response
        [1, 2],                                 # line 6 not an object
        {"q": "Q7", "a": "x", "b": "y", "y": 2},  # line 7 kept (B)
        r'{"q": "Q8", "a": "x \ud800", "b": "y", "y": 1}',  # line 8 lone surrogate: no tokenizer can read it
        r'{"q": "Q9 \ud83d\ude00", "a": "x", "b": "y", "y": 1}',  # line 9 kept: a surrogate pair is an emoji
    ])
    comp = component(kind="pairwise", path=str(path), fields={"question": "q", "response_a": "a", "response_b": "b", "label": "y"},
                     label_map={"1": "A", "2": "B"})
    out = list(load_examples(comp, "pairs"))
    assert len(out) == 9  # rows in = kept + rejected
    kept = [r for r in out if isinstance(r, JudgeExample)]
    rejected = {r.row: r for r in out if isinstance(r, RejectedRow)}
    assert [(k.question, k.label, k.responses) for k in kept] == [("What is 2+2?", "A", ["4", "5"]), ("Q7", "B", ["x", "y"]), ("Q9 \U0001f600", "A", ["x", "y"])]
    assert {row: r.reason for row, r in rejected.items()} == {
        2: "malformed_row", 3: "missing_field", 4: "bad_label", 5: "empty_response", 6: "malformed_row", 8: "malformed_row"}
    assert "response_b" in rejected[3].detail and "'7'" in rejected[4].detail and "field 'a'" in rejected[8].detail
    assert all(r.file == str(path) and r.component == "pairs" for r in rejected.values())
    assert kept[0].id == "pairs/pairs.jsonl:1" and kept[0].meta["row"] == 1


def test_parquet_and_csv_through_datasets(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"prompt": ["p1", "p2"], "good": ["g1", "g2"], "bad": ["b1", "None"], "winner": ["A", "B"]})
    frame.to_parquet(tmp_path / "x.parquet")
    frame.to_csv(tmp_path / "x.csv", index=False)
    fields = {"question": "prompt", "response_a": "good", "response_b": "bad", "label": "winner"}
    for name in ("x.parquet", "x.csv"):
        out = list(load_examples(component(kind="pairwise", path=str(tmp_path / name), fields=fields), "x"))
        # The text "None" stays text in CSV (pandas would make it a missing value).
        assert [(e.question, e.responses, e.label) for e in out] == [("p1", ["g1", "b1"], "A"), ("p2", ["g2", "None"], "B")]


def test_sft_rows_and_training_sample_passthrough(tmp_path):
    path = write_jsonl(tmp_path / "sft.jsonl", [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
        {"messages": [{"role": "user", "content": "hi"}]},  # no assistant reply
        {"prompt": "p", "response": "r"},
    ])
    out = list(load_examples(component(kind="sft", path=str(path)), "g"))
    assert isinstance(out[0], TrainingSample) and out[0].target == "hello" and out[0].messages == [{"role": "user", "content": "hi"}]
    assert isinstance(out[1], RejectedRow) and out[1].reason == "malformed_row"
    assert out[2].target == "r" and out[2].messages == [{"role": "user", "content": "p"}]

    accepted = write_jsonl(tmp_path / "accepted.jsonl", [
        {"messages": [{"role": "user", "content": "q"}], "target": '{"Choice": "Model B"}', "verdict": "B", "verdict_format": "cj2_cot"},
        {"messages": [{"role": "user", "content": "q"}], "target": '{"Choice": "Model B"}', "verdict": "A", "verdict_format": "cj2_cot"},
    ])
    out = list(load_examples(component(kind="sft", path=str(accepted)), "rft"))
    assert out[0].verdict == "B" and out[0].verdict_format == "cj2_cot"
    assert isinstance(out[1], RejectedRow) and out[1].reason == "verdict_mismatch"


def test_json_file_must_be_an_array(tmp_path):
    from cj2.data.sources.raw import SourceError

    (tmp_path / "bad.json").write_text(json.dumps({"a": 1}))
    with pytest.raises(SourceError, match="bad.json"):
        list(load_examples(component(kind="pairwise", path=str(tmp_path / "bad.json")), "x"))


def test_json_file_rows_with_a_lone_surrogate_are_quarantined(tmp_path):
    (tmp_path / "rows.json").write_text('[{"q": "fine", "a": "x", "b": "y", "y": "A"}, {"q": "cut \\ud83d", "a": "x", "b": "y", "y": "B"}]')
    comp = component(kind="pairwise", path=str(tmp_path / "rows.json"), fields={"question": "q", "response_a": "a", "response_b": "b", "label": "y"})
    first, second = load_examples(comp, "x")
    assert first.question == "fine"
    assert isinstance(second, RejectedRow) and (second.row, second.reason) == (2, "malformed_row") and "field 'q'" in second.detail


def test_a_hub_recipe_reads_its_pinned_revision_and_configuration(monkeypatch):
    """The Hub cannot be reached here, so ``datasets.load_dataset`` is a recorder (a mock, said so):
    what is checked is the call a recipe makes and the file label its rows carry.
    Catches: hub_config or hub_revision not passed on (a recipe reading another subset, or
    whatever the dataset's main branch holds today), and a non-streaming read."""
    import datasets

    calls = []

    def recorded(*args, **kwargs):
        calls.append((args, kwargs))
        return iter([{"question": "Q", "answer": "#### 4"}])

    monkeypatch.setattr(datasets, "load_dataset", recorded)
    component = OmegaConf.structured(DataComponentConfig(kind="knowledge", hub_name="openai/gsm8k", hub_config="main", hub_revision="e53f048", split="train",
                                                         fields={"gold": "answer"}, options={"answer_type": "number"}))
    examples = list(load_examples(component, "gsm8k"))
    assert calls == [(("openai/gsm8k", "main"), {"data_dir": None, "split": "train", "revision": "e53f048", "streaming": True})]
    assert len(examples) == 1 and examples[0].meta["file"] == "hub:openai/gsm8k/main@e53f048/train"
