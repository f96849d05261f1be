"""Whole mixture builds: the demo mixture the trainer uses, and a build fed bad rows."""

from __future__ import annotations

import json
import re

import pytest

from cj2.config.compose import compose
from cj2.data.job import build_mixture, config_hash
from cj2.data.packed.quarantine import TooManyRejects
from cj2.verdicts import parse
from tests.data.helpers import data_cfg, read_jsonl, write_jsonl


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory, qwen_tokenizer):
    out = tmp_path_factory.mktemp("demo")
    cfg = compose(["data=demo", f"data.output_dir={out}"])
    return cfg, build_mixture(cfg, show_progress=False)


def test_demo_mixture_is_complete_and_correct(demo_build):
    cfg, out = demo_build
    samples = read_jsonl(out / "train.jsonl") + read_jsonl(out / "valid.jsonl")
    assert len(samples) == 640
    assert sum(s["verdict"] == "A" for s in samples) == 320  # positions balanced exactly
    for s in samples:
        # Verdict only: nothing before the verdict token tells the winner away.
        assert json.loads(s["target"]) == {"Choice": f"Model {s['verdict']}"}
        assert parse("cj2_short", s["target"]).label == s["verdict"] and s["verdict_format"] == "cj2_short"
        # The chosen response states the true value of the expression (recomputed here); the other states none.
        prompt = s["messages"][-1]["content"]
        a, op, b = re.search(r"What is (\d+) ([-+*]) (\d+)\?", prompt).groups()
        truth = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]
        responses = dict(re.findall(r"\[Model ([AB])'s Response\]\n(.*?)\n", prompt))
        chosen = re.fullmatch(rf"{a} [-+*] {b} = (-?\d+)\. The \w+ of {a} and {b} is (-?\d+)\.", responses[s["verdict"]])
        assert chosen and int(chosen.group(1)) == int(chosen.group(2)) == truth
        assert "=" not in responses["B" if s["verdict"] == "A" else "A"]
    stats = json.loads((out / "stats.json").read_text())
    c = stats["components"]["arithmetic"]
    assert c["rows_in"] == c["kept"] + sum(c["rejected"].values()) == 640
    assert stats["splits"]["train"] + stats["splits"]["valid"] == 640 and stats["splits"]["valid"] >= 100
    assert (out / "lengths.png").read_bytes()[:4] == b"\x89PNG"


def test_demo_build_is_streamable_and_idempotent(demo_build):
    from cj2.data.packed.stream import PackedDataset

    cfg, out = demo_build
    train = PackedDataset(out / "train")
    valid = PackedDataset(out / "valid")
    splits = json.loads((out / "stats.json").read_text())["splits"]
    assert len(train.samples["row"]) == splits["train"] and len(valid.samples["row"]) == splits["valid"]
    assert (train.samples["verdict"] >= 0).all()  # every demo sample carries a usable verdict token
    manifest = (out / "build.json").stat().st_mtime_ns
    assert build_mixture(cfg, show_progress=False) == out
    assert (out / "build.json").stat().st_mtime_ns == manifest
    changed = compose(["data=demo", f"data.output_dir={out}", "data.seed=99"])
    assert config_hash(changed) != config_hash(cfg)
    assert config_hash(compose(["data=demo", f"data.output_dir={out}x", "data.num_workers=2"])) == config_hash(cfg)


def test_worker_count_does_not_change_the_result(tmp_path, qwen_tokenizer):
    demo = {"kind": "synthetic_demo", "num_samples": 40, "template": "cj2_short"}
    one = build_mixture(data_cfg(tmp_path / "one", {"d": demo}), show_progress=False)
    two = build_mixture(data_cfg(tmp_path / "two", {"d": demo}, num_workers=2, chunk_size=7), show_progress=False)
    for name in ("train.jsonl", "valid.jsonl"):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def pair_row(i, label="A", **extra):
    return {"question": f"Question {i}?", "response_a": f"Answer one to {i}", "response_b": f"Answer two to {i}", "label": label, **extra}


def test_bad_rows_are_quarantined_and_counted(tmp_path, qwen_tokenizer):
    rows = [pair_row(i, "AB"[i % 2]) for i in range(20)]
    rows += [
        "{broken",                                                  # line 21
        {"question": "no responses", "label": "A"},                 # line 22
        pair_row(23, label="maybe"),                                # line 23
        pair_row(24, response_b=""),                                # line 24
        pair_row(25, question="x " * 3000),                         # line 25: longer than seq_length
        pair_row(26, label="tie"),                                  # line 26: cj2_short cannot state a tie
        r'{"question": "Q27 \udc00?", "response_a": "a", "response_b": "b", "label": "A"}',  # line 27: lone surrogate
    ]
    main = write_jsonl(tmp_path / "main.jsonl", rows)
    # The other component repeats row 0 with its responses swapped: the same content.
    other = write_jsonl(tmp_path / "other.jsonl", [{**pair_row(0), "response_a": "Answer two to 0", "response_b": "Answer one to 0", "label": "B"},
                                                    pair_row(100)])
    components = {"main": {"kind": "pairwise", "path": str(main), "template": "cj2_short"},
                  "other": {"kind": "pairwise", "path": str(other), "template": "cj2_short"}}
    with pytest.raises(TooManyRejects, match="component .main.: 6 of 27 rows rejected for bad input"):
        build_mixture(data_cfg(tmp_path / "strict", components), show_progress=False)

    components["main"]["max_reject_fraction"] = 0.3
    out = build_mixture(data_cfg(tmp_path / "lenient", components, seq_length=2048), show_progress=False)
    quarantine = read_jsonl(out / "quarantine.jsonl")
    assert [(q["component"], q["row"], q["reason"]) for q in quarantine] == [
        ("main", 21, "malformed_row"), ("main", 22, "missing_field"), ("main", 23, "bad_label"), ("main", 24, "empty_response"),
        ("main", 25, "over_long"), ("main", 26, "label_not_in_template"), ("main", 27, "malformed_row"), ("other", 1, "duplicate")]
    assert all(q["file"] == str(main) for q in quarantine[:-1]) and quarantine[-1]["file"] == str(other)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["components"]["main"] == {**stats["components"]["main"], "rows_in": 27, "kept": 20, "selected": 20}
    assert stats["components"]["other"]["rejected"] == {"duplicate": 1}
    assert stats["rows_in"] == stats["kept"] + stats["rejected"] == 29
    assert stats["encoder"] == "tiktoken"  # Qwen2.5 qualifies for the fast path
    samples = read_jsonl(out / "train.jsonl") + read_jsonl(out / "valid.jsonl")
    assert len(samples) == 21
    swapped = 0
    for s in samples:  # the verdict-only target states the label, and the label follows the better response
        assert s["target"] == f'{{"Choice": "Model {s["verdict"]}"}}'
        prompt = s["messages"][-1]["content"]
        i = int(re.search(r"Question (\d+)\?", prompt).group(1))
        better = "one" if (i == 100 or i % 2 == 0) else "two"
        chosen = re.search(rf"\[Model {s['verdict']}'s Response\]\nAnswer (\w+) to", prompt).group(1)
        assert chosen == better
        swapped += s["meta"]["swapped"]
    # Rows 0-19 of main form 10 pairs with exactly one swap each; of other's pair, one row is a duplicate.
    assert swapped in (10, 11)


def test_build_data_task_prints_the_statistics(tmp_path, qwen_tokenizer, capsys):
    from cj2.cluster.launch import launch

    out = tmp_path / "built"
    cfg = compose(["data=demo", f"data.output_dir={out}", "data.components.arithmetic.num_samples=12", f"run_dir={tmp_path / 'run'}"])
    stats = launch("build_data", cfg)
    printed = capsys.readouterr().out
    assert "mixture demo" in printed and "arithmetic" in printed and "rejected" in printed
    assert stats["components"]["arithmetic"]["kept"] == 12 == stats["splits"]["train"] + stats["splits"]["valid"]
    assert json.loads((out / "build.json").read_text())["stats"] == stats


def test_packed_shards_hold_each_sample_as_the_tokenizer_api_tokenizes_it(demo_build, qwen_tokenizer):
    """The build tokenizes once, in batches inside its workers; the shards must hold exactly what
    the tokenizer's own Python API gives for each JSONL sample, with the verdict token in place."""
    from cj2.data.packed.stream import PackedDataset
    from cj2.data.records import TrainingSample
    from tests.train.test_tokenize_pack import packed_samples, reference_ids

    _, out = demo_build
    for split in ("train", "valid"):
        expected = sorted(reference_ids(TrainingSample.from_dict(r), qwen_tokenizer) for r in read_jsonl(out / f"{split}.jsonl"))
        ds = PackedDataset(out / split)
        assert (ds.samples["verdict"] >= 0).all()
        assert sorted(packed_samples(ds)) == expected


def test_unreadable_source_stops_with_one_clear_message(tmp_path, capsys):
    from cj2.data.job import run

    (tmp_path / "rows.json").write_text('{"not": "an array"}')
    cfg = data_cfg(tmp_path / "out", {"broken": {"kind": "pairwise", "path": str(tmp_path / "rows.json")}})
    with pytest.raises(SystemExit) as stop:
        run(cfg)
    assert stop.value.code == 1
    assert f"cj2 build_data: {tmp_path / 'rows.json'}: a JSON object, not an array of rows" in capsys.readouterr().err
    assert not (tmp_path / "out" / "build.json").exists()
