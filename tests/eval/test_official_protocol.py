"""eval.parser=official reproduces OpenCompass's scoring; lenient is cj2's; the Choice prompt is OpenCompass's.

The ``oc_*`` functions below are transcribed from OpenCompass
(opencompass/openicl/icl_evaluator/icl_judge_evaluator.py: ``Judgerbenchv2Evaluator``,
``JudgeEvaluator``, ``RMBEvaluator``; opencompass/datasets/judge/judgerbenchv2.py and rmb.py for
the positions and questions; opencompass/configs/datasets/judge/{judgebench,rmb,rewardbench}.py
for the prompt), independently of cj2's code, and cj2's numbers must equal them within 1e-6 on
messy outputs: spellings OpenCompass does not parse, mixed formats, unparsable text.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict

import pytest

from cj2.config import compose
from cj2.eval.job import evaluate
from cj2.eval.reporting.report import markdown_report as markdown_of
from tests.eval import judgerbench_fixture as fx

# --- OpenCompass, transcribed -------------------------------------------------------------


def oc_extract_winner(s, lan):
    pattern = r'"?(胜者)"?\s*:\s*"([A-Z])"' if lan.lower() in ["zh", "cn"] else r'"?(winner)"?\s*:\s*"([A-Z])"'
    matches = re.findall(pattern, s)
    return matches[-1][1] if matches else None


def oc_rank(score_dict):
    sorted_models = sorted(score_dict.items(), key=lambda x: (-x[1], x[0]))
    return {model: rank + 1 for rank, (model, _) in enumerate(sorted_models)}


def oc_judgerbenchv2_score(predictions, references, r1_rank_score):
    correct = count = 0
    model_dict = {}
    for prediction, reference in zip(predictions, references, strict=True):
        choice = oc_extract_winner(prediction, reference["lan"])
        if choice is not None:
            count += 1
            r1_gt = "A" if reference["r1_gt"] == reference["ModelA"] else "B"
            if r1_gt == choice:
                correct += 1
            if choice == "A" and reference["ModelA"] != "gpt-4o-mini-2024-07-18":
                model_dict[reference["ModelA"]] = model_dict.get(reference["ModelA"], 0) + 1
            elif choice == "B" and reference["ModelB"] != "gpt-4o-mini-2024-07-18":
                model_dict[reference["ModelB"]] = model_dict.get(reference["ModelB"], 0) + 1
    dict1, dict2 = dict(sorted(model_dict.items())), dict(sorted(r1_rank_score.items()))
    rank1, rank2 = oc_rank(dict1), oc_rank(dict2)
    max_rank_diff = len(dict1) - 1
    max_score_diff = max(abs(d1 - d2) for d1, d2 in zip(dict1.values(), dict2.values(), strict=False))
    normalized = {m: abs(rank1[m] - rank2[m]) / max_rank_diff + abs(dict1[m] - dict2[m]) / max_score_diff for m in rank1}
    diff = sum(normalized.values()) / len(normalized) * 100
    acc = 100 * correct / count
    return {"accuracy": acc, "normalized_diff": diff, "final_score": (acc - diff + 100) / 2}


def oc_balanced_list(length):
    rng = random.Random(0)
    half = length // 2
    out = [0] * half + [1] * half
    rng.shuffle(out)
    return out


def oc_choice(prediction):
    return prediction.split('"Choice": "Model ')[-1][0] if len(prediction) != 0 else None


def oc_judge_evaluator(predictions, winners):
    correct = sum(oc_choice(p) == w for p, w in zip(predictions, winners, strict=True))
    return 100 * correct / len(predictions)


def oc_rmb_evaluator(predictions, references):
    lists = defaultdict(list)
    for prediction, reference in zip(predictions, references, strict=True):
        item = {"choice": oc_choice(prediction), "gold_winner": reference["winner"], "bon_uid": reference.get("bon_uid", "")}
        lists[(reference["subset"], reference["goal"])].append(item)

    def pair_acc(data):
        scored = [d for d in data if d["choice"] and d["gold_winner"]]
        return sum(d["gold_winner"] == d["choice"] for d in scored) / len(scored) if scored else 0

    def bon_acc(data):
        groups = defaultdict(list)
        for d in data:
            if d["bon_uid"] and d["choice"] and d["gold_winner"]:
                groups[d["bon_uid"]].append(d["gold_winner"] == d["choice"])
        return sum(all(m) for m in groups.values()) / len(groups) if groups else 0

    bh, bx = bon_acc(lists[("bon", "Helpfulness")]), bon_acc(lists[("bon", "Harmlessness")])
    ph, px = pair_acc(lists[("pair", "Helpfulness")]), pair_acc(lists[("pair", "Harmlessness")])
    return {
        "bon_helpfulness": bh * 100, "bon_harmlessness": bx * 100, "pair_helpfulness": ph * 100, "pair_harmlessness": px * 100,
        "bon_average": (bh + bx) / 2 * 100, "pair_average": (ph + px) / 2 * 100, "total_accuracy": (bh + bx + ph + px) / 4 * 100,
    }  # fmt: skip


OC_CHOICE_PROMPT = (
    "\nPlease act as an impartial judge to evaluate the responses provided by two AI assistants to the user question below. "
    "Your evaluation should focus on the following criteria: helpfulness, relevance, accuracy, depth, creativity, and level of detail.\n\n"
    "- Do not let the order of presentation, response length, or assistant names influence your judgment.\n"
    "- Base your decision solely on how well each response addresses the user\u2019s question and adheres to the instructions.\n\n"
    "Your final reply must be structured in the following format:\n"
    '{\n  "Choice": "[Model A or Model B]"\n}\n'
    "User Question: {question}\n\nModel A's Response: {answerA}\n\nModel B's Response: {answerB}\n\n"
    "Now it's your turn. Please provide selection result as required:\n"
)


def cfg(tmp_path, name, **overrides):
    return compose([f"eval={name}", f"run_dir={tmp_path / 'run'}", "eval.plots=false", *(f"eval.{k}={v}" for k, v in overrides.items())])


# --- verdict rules, case by case -----------------------------------------------------------

# (text, official label, lenient label): official must equal OpenCompass's rule on every row.
WINNER_CASES = [
    ('{"analysis": "x", "winner": "A"}', "A", "A"),
    ('"Winner": "A"', None, "A"),  # capital W
    ('"winner": "b"', None, "B"),  # lower-case letter
    ('"winner": "Model A"', None, "A"),
    ("'winner': 'B'", None, "B"),  # single quotes
    ("\u201cwinner\u201d: \u201cA\u201d", None, "A"),  # curly quotes
    ('winner: "B"', "B", "B"),  # unquoted key: the published regex allows it
    ('"winner": "A" ... final "Winner": "B"', "A", "B"),  # mixed: official sees only the lower-case slot
    ('"winner": "C"', "C", None),  # any capital parses under the published regex (and is wrong)
    ("no verdict at all", None, None),
]
CHOICE_CASES = [
    ('{"Choice": "Model A"}', "A", "A"),
    ('"Choice": "Model B" then {"Choice": "Model A"}', "A", None),  # last marker; cj2 reports the conflict
    ('"choice": "model b"', '"', "B"),  # no marker: the first character is the "choice"
    ("A is clearly better", "A", None),  # no marker, starts with A: counts as choosing A
    ('Choice: Model B', "C", None),
    ("{'Choice': 'Model B'}", "{", "B"),
    ("", None, None),
    ('ends with the marker "Choice": "Model ', None, None),  # the published code raises IndexError
]


@pytest.mark.parametrize("text, official, lenient", WINNER_CASES)
def test_judgerbench_winner_official_and_lenient(text, official, lenient):
    """Catches: an IGNORECASE flag or a [A-Za-z] class in the official regex; lenient delegating to official."""
    from cj2.eval.judging.official_parsers import lenient_parse, official_parse

    assert official == oc_extract_winner(text, "en")
    cn = text.replace("winner", "胜者").replace("Winner", "胜者")
    assert official_parse("judgerbench_cn", cn).label == oc_extract_winner(cn, "cn")
    verdict = official_parse("judgerbench_en", text)
    assert (verdict.label, verdict.ok) == (official, official is not None)
    parsed = lenient_parse("judgerbench_en", text)
    assert (parsed.label if parsed.ok else None) == lenient


@pytest.mark.parametrize("text, official, lenient", CHOICE_CASES)
def test_choice_official_and_lenient(text, official, lenient):
    """Catches: the first-character fallback dropped (or taken from the first marker); lenient not reading cj2_cot."""
    from cj2.eval.judging.official_parsers import lenient_parse, official_parse

    if text.endswith('"Model '):
        with pytest.raises(IndexError):
            oc_choice(text)
    else:
        assert official == oc_choice(text)
    assert official_parse("opencompass_choice", text).label == official
    parsed = lenient_parse("opencompass_choice", text)
    assert (parsed.label if parsed.ok else None) == lenient


# --- JudgerBenchV2: whole benchmark equal to the published evaluator -------------------------

# Per record index (x: 0-3, y: 4-7): the judged side and how the verdict is written.
MESSY = [
    (fx.M, '{{"analysis": "ok", "winner": "{L}"}}'),
    (fx.B, '"Winner": "{L}"'),
    (fx.B, '"winner": "{l}"'),
    (fx.M, '"winner": "Model {L}"'),
    (fx.B, "'winner': '{L}'"),
    (fx.M, '"winner": "{O}" first, then "Winner": "{L}"'),  # official reads the first slot only
    (fx.M, 'winner: "{L}"'),
    (fx.B, '"winner": "C"'),
]


def messy_predictions(tmp_path):
    lines = []
    for scenario in fx.SCENARIOS:
        for index, (side, pattern) in enumerate(MESSY):
            letter = fx.letter_for(side, index)
            text = pattern.format(L=letter, l=letter.lower(), O="B" if letter == "A" else "A")
            if scenario == fx.CHINESE:
                text = text.replace("winner", "胜者").replace("Winner", "胜者")
            lines.append({"scenario": scenario, "index": index, "prediction": text})
    path = tmp_path / "messy.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return lines, path


def oc_references(scenario):
    positions = oc_balanced_list(100) * 10
    refs = []
    for i, record in enumerate(fx.records(scenario)):
        base, model = record["base_model_response"]["model_name"], record["models_response"]["model_name"]
        a, b = (base, model) if positions[i] == 0 else (model, base)
        refs.append({**record["gold"], "ModelA": a, "ModelB": b})
    return refs


def test_judgerbenchv2_official_equals_opencompass_on_messy_outputs(tmp_path):
    """Catches: cj2.verdicts (lenient) as the default parser; a parser that keeps the first slot instead of the last."""
    data_dir, _, truth = fx.build(tmp_path)
    lines, predictions = messy_predictions(tmp_path)
    result = evaluate(cfg(tmp_path, "judgerbenchv2", data_dir=data_dir, predictions=predictions, ground_truth=truth))
    means, unparsed = defaultdict(float), 0
    for scenario in fx.SCENARIOS:
        texts = [line["prediction"] for line in lines if line["scenario"] == scenario]
        expected = oc_judgerbenchv2_score(texts, oc_references(scenario), fx.TRUTH)
        got = result.metrics["scenarios"][scenario]
        for ours, theirs in (("accuracy", "accuracy"), ("normalized_diff", "normalized_diff"), ("final", "final_score")):
            assert got[ours] == pytest.approx(expected[theirs], abs=1e-6), (scenario, ours)
            means[ours] += expected[theirs] / len(fx.SCENARIOS)
        assert got["unparsed"] == sum(oc_extract_winner(t, "cn" if scenario == fx.CHINESE else "en") is None for t in texts)
        unparsed += got["unparsed"]
    for key, value in means.items():
        assert result.metrics["overall"][key] == pytest.approx(value, abs=1e-6)
    assert result.metrics["protocol"] == {"prompt": "judgerbenchv2", "verdict_format": "judgerbench_en/judgerbench_cn", "parser": "official", "unparsed": unparsed}
    assert unparsed == 39  # 4 per scenario; in Chinese "Winner" became "胜者", which parses

    lenient = evaluate(cfg(tmp_path, "judgerbenchv2", data_dir=data_dir, predictions=predictions, ground_truth=truth, parser="lenient"))
    assert lenient.unparsed == 10  # only '"winner": "C"' is unreadable to cj2.verdicts
    assert lenient.headline != pytest.approx(result.headline)
    assert lenient.metrics["protocol"]["parser"] == "lenient"
    assert "parser lenient" in markdown_of(lenient) and "unparsed 10" in markdown_of(lenient)


def test_unknown_parser_is_named(tmp_path):
    """Catches: an unknown eval.parser silently falling back to one of the two."""
    from cj2.eval.core.files import EvalInputError

    with pytest.raises(EvalInputError, match="eval.parser: expected one of official, lenient, got 'strict'"):
        evaluate(cfg(tmp_path, "judgebench", data_file="x.jsonl", predictions="p.jsonl", parser="strict"))


# --- the Choice protocol: JudgeBench, RMB -----------------------------------------------------

CHOICE_OUTPUTS = ['{"Choice": "Model A"}', '{"Choice": "Model B"}', '"choice": "model a"', "A is better", "B wins", "Choice: Model A", "", '"Choice": "Model B" ... {"Choice": "Model A"}']


def test_judgebench_official_equals_judge_evaluator(tmp_path, shared_data):
    """Catches: unparsed outputs left out of the denominator; the first-character fallback not reproduced."""
    path = shared_data / "judgebench" / "judgebench_gpt-4o.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    texts = [CHOICE_OUTPUTS[i % len(CHOICE_OUTPUTS)] for i in range(len(rows))]
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps({"index": i, "prediction": t}) + "\n" for i, t in enumerate(texts)))
    result = evaluate(cfg(tmp_path, "judgebench", data_file=path, predictions=predictions))
    winners = [r["label"][0] for r in rows]  # "A>B" -> A; the file's order is the shown order
    assert result.headline == pytest.approx(oc_judge_evaluator(texts, winners), abs=1e-6)
    assert result.metrics["protocol"] == {"prompt": "opencompass_choice", "verdict_format": "opencompass_choice", "parser": "official", "unparsed": texts.count("")}
    assert result.metrics["choice_marker_absent"] == sum(bool(t) and '"Choice": "Model ' not in t for t in texts)
    lenient = evaluate(cfg(tmp_path, "judgebench", data_file=path, predictions=predictions, parser="lenient"))
    assert lenient.headline != pytest.approx(result.headline)


def rmb_folder(tmp_path):
    """A small RMB_dataset/ in the published schema: two pair files, two BoN files (one goal each kind)."""
    turn = [{"role": "user", "content": "How?"}, {"role": "assistant", "content": "Like so."}, {"role": "user", "content": "Why?"}]
    pair = [{"conversation_input": turn, "chosen": {"answer": f"good {i}"}, "reject": {"answer": f"bad {i}"}, "pair_uid": f"p{i}", "category_path": "Pairwise_set/Helpfulness/Code"} for i in range(5)]
    harm = [{"conversation_input": turn, "chosen": {"answer": f"safe {i}"}, "reject": {"answer": f"unsafe {i}"}, "pair_uid": f"h{i}", "category_path": "Pairwise_set/Harmlessness/S1"} for i in range(3)]
    bon = [{"conversation_input": turn, "bon_best": {"answer": "best"}, "loser_list": [{"answer": f"l{k}"} for k in range(n)], "bon_uid": f"b{u}", "category_path": "BoN_set/Helpfulness/Code"} for u, n in enumerate((2, 3, 1))]
    folder = tmp_path / "RMB_dataset"
    for sub, rows in (("BoN_set/Helpfulness/a.json", bon), ("Pairwise_set/Harmlessness/b.json", harm), ("Pairwise_set/Helpfulness/c.json", pair)):
        (folder / sub).parent.mkdir(parents=True, exist_ok=True)
        (folder / sub).write_text(json.dumps(rows))
    references = []  # in cj2's item order: files sorted by path, BoN rows expanded per loser
    for row in bon:
        references += [{"subset": "bon", "goal": "Helpfulness", "winner": "A", "bon_uid": row["bon_uid"]}] * len(row["loser_list"])
    references += [{"subset": "pair", "goal": "Harmlessness", "winner": "A"}] * len(harm) + [{"subset": "pair", "goal": "Helpfulness", "winner": "A"}] * len(pair)
    return folder, references


def test_rmb_official_equals_rmb_evaluator(tmp_path):
    """Catches: cj2's stricter BoN rule (an unparsed pair failing its group) or its mean-of-available-parts under official."""
    folder, references = rmb_folder(tmp_path)
    texts = ['{"Choice": "Model A"}', "", '{"Choice": "Model A"}', "Bad", "", '{"Choice": "Model B"}', "A", "", '"choice": "model a"', "A.", '{"Choice": "Model B"}', "", "A", "Absolutely A"]
    assert len(texts) == len(references)
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps({"index": i, "prediction": t}) + "\n" for i, t in enumerate(texts)))
    result = evaluate(cfg(tmp_path, "rmb", data_dir=folder, predictions=predictions))
    expected = oc_rmb_evaluator(texts, references)
    assert expected["bon_harmlessness"] == 0 and 0 < expected["total_accuracy"] < 100  # an absent part counts 0
    for part in ("bon_helpfulness", "pair_helpfulness", "pair_harmlessness"):
        assert result.metrics["parts"][part]["accuracy"] == pytest.approx(expected[part], abs=1e-6), part
    assert result.metrics["pair_average"] == pytest.approx(expected["pair_average"], abs=1e-6)
    assert result.metrics["bon_average"] == pytest.approx(expected["bon_average"], abs=1e-6)
    assert result.headline == pytest.approx(expected["total_accuracy"], abs=1e-6)
    assert any("bon_harmlessness" in n for n in result.notes)


# --- the Choice prompt, pinned -----------------------------------------------------------------


def test_choice_prompt_is_opencompass_text():
    """Catches: any edit of the prompt text (the curly apostrophe, the leading newline) or str.format filling."""
    from cj2.eval.judging.opencompass_prompts import choice_prompt

    assert choice_prompt("Q?", "ra", "rb") == OC_CHOICE_PROMPT.replace("{question}", "Q?").replace("{answerA}", "ra").replace("{answerB}", "rb")
    # safe_format: sequential str.replace in column order, the output column {judge} emptied
    assert "Model A's Response: x rb {}\n" in choice_prompt("q", "x {answerB} {judge}{}", "rb")


@pytest.mark.parametrize("name", ["judgebench", "rmb", "rewardbench"])
def test_choice_protocol_is_the_default_and_template_switches_it(tmp_path, shared_data, name):
    """Catches: the yaml default still cj2_cot; eval.template=cj2_cot ignored; RMB's question not in OpenCompass's form."""
    from cj2.eval.judging.pairwise import verdict_format_of
    from cj2.eval.registry import get as benchmark_module

    files = {"judgebench": {"data_file": shared_data / "judgebench" / "judgebench_gpt-4o.jsonl"}, "rewardbench": {"data_file": tmp_path / "rb.jsonl"}}
    (tmp_path / "rb.jsonl").write_text(json.dumps({"prompt": "q", "chosen": "good", "rejected": "bad", "subset": "hep-go", "winner": "B"}) + "\n")
    if name == "rmb":
        folder, _ = rmb_folder(tmp_path)
        files["rmb"] = {"data_dir": folder}
    config = cfg(tmp_path, name, limit=1, **files[name])
    bench = benchmark_module(name)
    item = bench.load_items(config.eval)[0]
    messages = bench.requests(config.eval)[0]["messages"]
    assert messages == [{"role": "user", "content": OC_CHOICE_PROMPT.replace("{question}", item.question).replace("{answerA}", item.response_a).replace("{answerB}", item.response_b)}]
    if name == "rmb":
        assert item.question == "\n\n ### User:How?\n\n ### Assistant:Like so.\n\n ### User:Why?\n\n ### Assistant:"
    if name == "rewardbench":  # the row's own winner places the chosen response, as OpenCompass's loader does
        assert (item.response_a, item.response_b, item.gold) == ("bad", "good", "B")
    cot = cfg(tmp_path, name, limit=1, template="cj2_cot", **files[name])
    assert bench.requests(cot.eval)[0]["messages"] != messages
    assert verdict_format_of(cot.eval) == "cj2_cot" and verdict_format_of(config.eval) == "opencompass_choice"


# --- position bias, for every pairwise benchmark -------------------------------------------------


def test_position_report_for_an_always_a_judge(tmp_path, shared_data):
    """Catches: the position block missing from OUT.json / the Markdown; gold-A rate taken from the original order only."""
    path = shared_data / "judgebench" / "judgebench_gpt-4o.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()][:20]
    a_better = sum(r["label"] == "A>B" for r in rows)
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps({"index": i, "prediction": '{"Choice": "Model A"}', "swapped": s}) + "\n" for s in (False, True) for i in range(20)))
    result = evaluate(cfg(tmp_path, "judgebench", data_file=path, predictions=predictions, limit=20, swap=True))
    position = result.metrics["position"]
    # both orders: A is the better side in a_better original + (20 - a_better) swapped presentations of 40
    assert position["gold_a_rate"] == pytest.approx(100 * 20 / 40)
    assert (position["verdict_a_rate"], position["accuracy_gold_a"], position["accuracy_gold_b"]) == (100.0, 100.0, 0.0)
    assert (position["consistency"], position["items_in_both_orders"]) == (0.0, 20)
    assert a_better not in (0, 20)  # both sides occur in the original order
    markdown = markdown_of(result)
    assert "Position bias" in markdown and "| verdict_a_rate | 100.00 |" in markdown
