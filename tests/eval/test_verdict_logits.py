"""Teacher-forced verdict scoring (eval.scoring=verdict_logits) on SmolLM2-135M-Instruct, a real model
and tokenizer: the logits read in padded batches equal a plain transformers forward of each sequence
alone, tokenized independently as one text; the swapped order forces the other label; sequences
whose verdict cannot be located are counted and named."""

from __future__ import annotations

import json

import pytest

from cj2.config import compose
from cj2.eval.core.files import EvalInputError
from cj2.eval.judging.pairwise import PairItem
from cj2.eval.judging.teacher_forced import forced_samples, score_items, verdict_result
from tests.sample.conftest import smollm2_dir, smollm2_gguf  # noqa: F401  (session fixtures: the real model, converted once)

REFERENCE = ('{{"Reasoning": "Model {winner} states {gold}, the number the work leads to; Model {loser} states {wrong}.", '
             '"Choice": "Model {winner}"}}')


def reference(winner: str, gold: str, wrong: str) -> str:
    return REFERENCE.format(winner=winner, loser="B" if winner == "A" else "A", gold=gold, wrong=wrong)


# Different lengths (so a batch pads), both gold sides, one item with its own references (both orders).
ITEMS = [
    PairItem("short", "2+2?", "4", "5", "A"),
    PairItem("long", "Tom has 3 apples and buys 4 more, then gives 2 away. How many are left?" * 3, "He has 6.", "He has 5.", "B", group="gsm8k"),
    PairItem("mid", "What is 7 * 6?", "42", "48", "A", group="gsm8k", bon_group="g7", question_id="q7"),
    PairItem("ref", "What is 10 - 3?", "8", "7", "B", reference=reference("B", "7", "8"), reference_swapped=reference("A", "7", "8")),
]


def eval_cfg(*overrides):
    return compose(["eval.name=toy", "eval.template=cj2_short", "eval.swap=true", "eval.verdict_batch=3", "eval.progress=false", *overrides]).eval


@pytest.fixture(scope="module", autouse=True)
def one_cpu_thread():
    """Torch on one CPU thread in this module: two OpenMP threads spinning on a shared 2-core machine
    ran a SmolLM2 forward 6-10x slower than one."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def smollm2(smollm2_dir):  # noqa: F811
    """The model and tokenizer as eval loads them, once per module."""
    from cj2.eval.judging.teacher_forced import load_model

    return load_model(eval_cfg("eval.engine=hf", f"eval.model={smollm2_dir}"))


def independent_reference(model, tokenizer, messages, target, gold):
    """The logits before the verdict token, from one transformers forward of the sequence alone.

    Independent of cj2's tokenization: the chat template renders the prompt, the whole text is
    tokenized in one call, the verdict token is the one whose character span holds the label
    letter after the last ``"Model `` (offset mapping), and y- is the token at that index after
    writing the other letter there."""
    import torch

    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + target + "<|im_end|>"
    at = text.rindex('"Choice": "Model ') + len('"Choice": "Model ')
    assert text[at] == gold
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoded["input_ids"]
    index = next(i for i, (start, end) in enumerate(encoded["offset_mapping"]) if start <= at < end)
    flipped = tokenizer(text[:at] + ("B" if gold == "A" else "A") + text[at + 1 :], add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids[:index]])).logits[0, -1].float()
    return {"ids": ids, "gold": logits[ids[index]].item(), "other": logits[flipped[index]].item(), "lse": torch.logsumexp(logits, -1).item(),
            "argmax": int(logits.argmax()), "label_id": ids[index], "opposite_id": flipped[index]}


def test_batched_logits_equal_a_plain_forward_of_each_sequence(smollm2):
    """8 sequences (4 items x 2 orders) in batches of 3 of mixed lengths: z of both labels, the
    log-sum-exp and the argmax agree with :func:`independent_reference` within 1e-4, and the token
    ids cj2 builds (prompt and judgment tokenized apart, as training does) equal the whole text's.

    Mutants seen failing: logits read AT the verdict token (``verdict_index`` for ``verdict_index - 1``);
    left padding with the pads attended (mask all ones); rows matched to the wrong kept column
    (``torch.searchsorted`` replaced by the row number). Equivalent, not caught by design: left
    padding WITH the mask (RoPE attention depends only on relative positions)."""
    from cj2.data.packed.tokenize import tokenize_batch

    model, tokenizer = smollm2
    cfg = eval_cfg()
    scored = score_items(ITEMS, cfg, model, tokenizer)
    assert scored.unlocated == [] and len(scored.records) == 8
    keys, samples, _ = forced_samples(ITEMS, cfg)
    tokenized = [t for t, _ in tokenize_batch(samples, tokenizer)]
    assert len({len(t.input_ids) for t in tokenized}) > 3  # the batches really pad
    for record, (item, swapped), sample, ours in zip(scored.records, keys, samples, tokenized, strict=True):
        assert (record.item, record.swapped) == (item.id, swapped)
        ref = independent_reference(model, tokenizer, sample.messages, sample.target, record.gold)
        assert ours.input_ids == ref["ids"]
        other = "B" if record.gold == "A" else "A"
        assert record.z[record.gold] == pytest.approx(ref["gold"], abs=1e-4)
        assert record.z[other] == pytest.approx(ref["other"], abs=1e-4)
        assert record.logsumexp == pytest.approx(ref["lse"], abs=1e-4)
        assert record.top == {ref["label_id"]: record.gold, ref["opposite_id"]: other}.get(ref["argmax"])


def test_bf16_weights_still_give_fp32_logits(smollm2, smollm2_dir):  # noqa: F811
    """As on a GPU: the model in bf16, its output layer in fp32. The label logits are not rounded to
    bf16 (at |z| ~ 10-20 its grid is 0.06-0.125 apart: close calls would tie) and stay within 0.5 of
    the fp32 model's. Mutant: ``with_fp32_head`` not applied -> every z lies on the bf16 grid."""
    import torch

    from cj2.eval.judging.teacher_forced import load_model

    model, tokenizer = load_model(eval_cfg("eval.engine=hf", f"eval.model={smollm2_dir}"), dtype="bfloat16")
    assert next(model.parameters()).dtype == torch.bfloat16
    half = score_items(ITEMS[:2], eval_cfg(), model, tokenizer).records
    z = torch.tensor([[r.z["A"], r.z["B"]] for r in half])
    assert (z.bfloat16().float() != z).float().mean() > 0.5
    full = score_items(ITEMS[:2], eval_cfg(), *smollm2).records
    assert torch.allclose(z, torch.tensor([[r.z["A"], r.z["B"]] for r in full]), atol=0.5)


def test_the_swapped_order_shows_b_first_and_forces_the_other_label(smollm2):
    """Item "mid" (gold A = "42"): the original sequence forces "Model A" after 42 is shown first; the
    swapped one shows 48 first and forces "Model B" (gold B as shown). The item's own references are
    used per order; the bon group, question and subset travel into the records."""
    keys, samples, _ = forced_samples(ITEMS, eval_cfg())
    by_key = {(item.id, swapped): sample for (item, swapped), sample in zip(keys, samples, strict=True)}
    original, swapped = by_key[("mid", False)], by_key[("mid", True)]
    assert (original.verdict, swapped.verdict) == ("A", "B")
    assert original.target == '{"Choice": "Model A"}' and swapped.target == '{"Choice": "Model B"}'
    shown = swapped.messages[-1]["content"]
    assert shown.index("48") < shown.index("42") and original.messages[-1]["content"].index("42") < original.messages[-1]["content"].index("48")
    assert by_key[("ref", False)].target == ITEMS[3].reference and by_key[("ref", True)].target == ITEMS[3].reference_swapped
    model, tokenizer = smollm2
    records = {(r.item, r.swapped): r for r in score_items(ITEMS[2:3], eval_cfg(), model, tokenizer).records}
    assert (records[("mid", False)].gold, records[("mid", True)].gold) == ("A", "B")
    assert {(r.group, r.question, r.subset) for r in records.values()} == {("g7", "q7", "gsm8k")}


def test_sequences_without_a_located_verdict_are_counted_and_named(smollm2):
    """A reference stating the other verdict (verdict_mismatch) and one stating none (unparsed) are not
    scored: 3 items x 2 orders = 6 sequences in, 2 scored + 4 named out, in the notes and OUT.json."""
    model, tokenizer = smollm2
    items = [ITEMS[0],
             PairItem("wrong", "1+1?", "2", "3", "A", reference=reference("B", "2", "3"), reference_swapped=reference("A", "2", "3")),
             PairItem("silent", "1+2?", "3", "4", "A", reference="Both look fine.", reference_swapped="Both look fine.")]
    scored = score_items(items, eval_cfg(), model, tokenizer)
    assert len(scored.records) + len(scored.unlocated) == 6 and len(scored.records) == 2
    assert {(u.item, u.swapped, u.reason) for u in scored.unlocated} == {("wrong", False, "verdict_mismatch"), ("wrong", True, "verdict_mismatch"),
                                                                         ("silent", False, "unparsed"), ("silent", True, "unparsed")}
    result = verdict_result("toy", scored, "records.jsonl", resamples=200)
    assert result.unparsed == 4 and result.total == 6
    assert "4 sequence(s) without a located verdict" in " ".join(result.notes) and "wrong (original: verdict_mismatch)" in " ".join(result.notes)
    assert result.metrics["unlocated"]["reasons"] == {"verdict_mismatch": 2, "unparsed": 2}


def test_a_reference_for_one_order_only_is_refused_when_both_are_judged():
    item = PairItem("half", "q", "a", "b", "A", reference=reference("A", "1", "2"))
    with pytest.raises(EvalInputError, match="reference_swapped.*half"):
        forced_samples([item], eval_cfg())
    assert len(forced_samples([item], eval_cfg("eval.swap=false"))[1]) == 1


def test_the_generic_loader_maps_best_of_n_groups_questions_and_references(tmp_path):
    """``eval.fields.bon_group`` / ``question_id`` / ``reference`` / ``reference_swapped``: a pair outside
    any group may lack the column or hold null; a mapped reference is required on every row; a
    misspelt field is an error, not silently ignored."""
    from cj2.eval.benchmarks.pairwise import load_items

    rows = [{"q": "5+5?", "a": "10", "b": "11", "label": "A", "bon": 5, "qid": "five", "ref": reference("A", "10", "11"), "ref_s": reference("B", "10", "11")},
            {"q": "2+2?", "a": "4", "b": "3", "label": "A", "bon": None, "ref": "x", "ref_s": "y"}]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fields = "eval.fields={question: q, response_a: a, response_b: b, label: label, bon_group: bon, question_id: qid, reference: ref, reference_swapped: ref_s}"
    items = load_items(eval_cfg(f"eval.data_file={data}", fields, "eval.label_map={A: A, B: B}"))
    assert [(i.bon_group, i.question_id, i.reference == rows[0]["ref"]) for i in items] == [("5", "five", True), ("", "", False)]
    rows[1]["ref"] = " "
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(EvalInputError, match=r"set.jsonl row 2 field 'ref': empty reference"):
        load_items(eval_cfg(f"eval.data_file={data}", fields, "eval.label_map={A: A, B: B}"))
    with pytest.raises(EvalInputError, match="unknown record field.*bon_grup"):
        load_items(eval_cfg(f"eval.data_file={data}", "eval.fields={question: q, response_a: a, response_b: b, label: label, bon_grup: bon}"))


@pytest.mark.slow
def test_launch_eval_scores_rescores_and_keeps_generation_beside_it(tmp_path, repo_root, smollm2_dir):  # noqa: F811
    """``launch/eval.py eval.scoring=verdict_logits`` on a generic set with a best-of-N group: OUT.json
    holds the metrics with intervals and the unlocated block, the report's table shows intervals, the
    records file re-scores (``eval.predictions=``) to the same numbers, and a generation run of the same
    set in the same run dir writes its own files beside them (both in process: one launch is enough)."""
    import os
    import subprocess
    import sys

    from cj2.config import finalize
    from cj2.eval.job import run

    rows = [{"id": "p1", "q": "2+2?", "a": "4", "b": "5", "label": "A"}, {"id": "p2", "q": "3+3?", "a": "7", "b": "6", "label": "B"}]
    rows += [{"id": f"g{k}", "q": "5+5?", "a": "10", "b": str(11 + k), "label": "A", "bon": "five"} for k in range(3)]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_dir = tmp_path / "run"
    common = ["eval.name=toyset", f"eval.data_file={data}", "eval.template=cj2_short", "eval.swap=true", f"run_dir={run_dir}",
              "eval.fields={id: id, question: q, response_a: a, response_b: b, label: label, bon_group: bon}", "eval.label_map={A: A, B: B}",
              "eval.progress=false", "eval.plots=false"]
    env = {**os.environ, "PYTHONPATH": str(repo_root), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "launch/eval.py", *common, "eval.scoring=verdict_logits", f"eval.model={smollm2_dir}"]
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads((run_dir / "eval_toyset+verdict_logits.json").read_text())
    verdict = out["verdict"]
    assert (verdict["records"], verdict["items"], verdict["groups"], verdict["questions"]) == (10, 5, 1, 3)
    assert out["unlocated"]["count"] == 0 and out["protocol"]["scoring"] == "verdict_logits"
    all_intervals = out["intervals"]["all"]
    assert all_intervals["accuracy"]["low"] <= verdict["accuracy"] <= all_intervals["accuracy"]["high"] and "bon_accuracy" in all_intervals
    report = (run_dir / "eval_toyset+verdict_logits.md").read_text()
    assert f"{verdict['accuracy']:.1f} [" in report
    records = run_dir / "verdict_logits_toyset.jsonl"
    assert len(records.read_text().splitlines()) == 10
    run(finalize(compose([*common, "eval.scoring=verdict_logits", f"eval.predictions={records}", f"eval.output={tmp_path / 'rescored.json'}"])))
    assert json.loads((tmp_path / "rescored.json").read_text())["verdict"] == verdict
    run(finalize(compose([*common, f"eval.model={smollm2_dir}", "eval.max_tokens=4"])))
    assert json.loads((run_dir / "eval_toyset.json").read_text())["overall"]["judged"] == 10
    assert json.loads((run_dir / "eval_toyset+verdict_logits.json").read_text()) == out
