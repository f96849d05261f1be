"""What the teacher is paid for during curation, and what it is not asked at all.

Adaptive sampling (sample.n_first), near-duplicate candidates under accept_cap, pairs judged once
across the mixture (curate.skip_known_pairs), over-long prompts quarantined before generation, and
the teacher's work per kept row in the curation summary. The teacher is scripted (tests.data.helpers).
"""

from __future__ import annotations

from cj2.data.packed.tokenize import prompt_lengths, text_lengths
from cj2.data.records import JudgeExample
from cj2.data.templates import get_template
from cj2.sample.curate import curate
from cj2.sample.engines.base import PromptsRefused
from tests.data.helpers import ScriptedTeacher, cot_judgment, data_cfg, read_jsonl, write_jsonl


def user_text(messages):
    return messages[-1]["content"]


def better(messages) -> str:
    """The side whose response holds GOOD (the pairs below mark the better response so)."""
    return "A" if "[Model A's Response]\nGOOD" in user_text(messages) else "B"


def pairs(n: int, hard: set[int] = frozenset()) -> list[dict]:
    """n pairs, the better response marked GOOD; the label of a hard row is the other side (the teacher disagrees)."""
    rows = []
    for i in range(n):
        label = "AB"[i % 2]
        rows.append({"question": f"Question number {i} about topic {i * 7}", "response_a": f"GOOD answer {i}" if label == "A" else f"plain answer {i}",
                     "response_b": f"GOOD answer {i}" if label == "B" else f"plain answer {i}", "label": label if i not in hard else "AB"[(i + 1) % 2]})
    return rows


WORDS = ["apple orchard", "binary search", "cold front", "dune grass", "electric eel", "fern spores", "granite quarry", "harbor seal"]
ANALYSIS_KEYS = ("User's Demand", "Strengths of Model A", "Weaknesses of Model A", "Strengths of Model B", "Weaknesses of Model B", "Reasoning")


def distinct_judgment(side: str, k: int) -> str:
    """Candidate ``k``: a complete judgment whose analysis differs from every other candidate's (no near-duplicates)."""
    return cot_judgment(side, **{key: f"{WORDS[k]} then {WORDS[(k + i + 1) % len(WORDS)]}" for i, key in enumerate(ANALYSIS_KEYS)})


def rft(tmp_path, rows, **sample):
    comp = {"kind": "pairwise", "role": "rft", "path": str(write_jsonl(tmp_path / "pairs.jsonl", rows))}
    cfg = data_cfg(tmp_path / "out", {"r": comp}, validation_fraction=0.0, seq_length=2048)
    for key, value in sample.items():
        cfg.sample[key] = value
    return cfg


def test_adaptive_sampling_asks_for_the_rest_only_where_no_candidate_is_accepted(tmp_path, qwen_tokenizer):
    """n=8, n_first=2: an easy pair costs 2 candidates, a pair the first two do not settle costs 8, and
    its candidates 2..7 are those a run asking for 8 at once gets (the seed moved on by 2).
    Catches: all n asked for every row (the review's 8 per pair), the rest asked again from candidate 0
    (the same two judgments paid twice), the rest asked for rows already settled."""
    asked = []  # the candidate indices row 3 was asked for

    def reply(messages, k):  # candidates 0 and 1 of row 3 state the wrong side; from candidate 2 on the right one
        wrong = "Question number 3 " in user_text(messages) and k < 2
        asked.extend([k] if "Question number 3 " in user_text(messages) else [])
        return distinct_judgment({"A": "B", "B": "A"}[better(messages)] if wrong else better(messages), k)

    teacher = ScriptedTeacher(reply)
    summary = curate(rft(tmp_path, pairs(6), n=8, n_first=2), teacher, show_progress=False)
    work = summary["components"]["r"]["teacher"]
    assert summary["components"]["r"]["kept"] == 6
    assert (work["prompts"], work["candidates"]) == (7, 6 * 2 + 6)  # row 3 asked twice: 2, then the other 6
    assert asked == list(range(8))  # candidates 0-1, then 2-7: none paid twice
    kept = {s["meta"]["judgment"] for c in read_jsonl(tmp_path / "out-curated/r/shards/00000-of-00001/items.jsonl") if "example" in c
            for s in c["example"]["meta"]["variants"] if "Question number 3 " in s["question"]}
    assert kept == {distinct_judgment("B", 2), distinct_judgment("B", 3)}  # the first two accepted ones (accept_cap 2), row 3 labelled B
    everything = ScriptedTeacher(reply)
    curate(rft(tmp_path / "all", pairs(6), n=8, n_first=None), everything, show_progress=False)
    assert len(everything.prompts) == 6  # n_first=None: 8 candidates of each row at once, 48 in all


def test_accept_cap_skips_near_duplicate_judgments(tmp_path, qwen_tokenizer):
    """accept_cap=2 keeps two different analyses: a candidate repeating the first with a changed word
    is passed over for the next one. Catches: the first M accepted kept whatever they say."""
    first = cot_judgment("A", Reasoning="A answers the question about topic zero directly and correctly, B does not.")
    variants = [first, first.replace("directly", "plainly"), cot_judgment("A", **{key: f"{key}: a wholly different argument about fruit." for key in
                ("User's Demand", "Strengths of Model A", "Weaknesses of Model A", "Strengths of Model B", "Weaknesses of Model B", "Reasoning")})]
    cfg = rft(tmp_path, pairs(1), n=3, n_first=None, accept_cap=2, swap_positions="none")
    cfg.data.swap_positions = "none"
    curate(cfg, ScriptedTeacher(lambda m, k: variants[k]), show_progress=False)
    [record] = read_jsonl(tmp_path / "out-curated/r/shards/00000-of-00001/items.jsonl")
    assert [v["meta"]["judgment"] for v in record["example"]["meta"]["variants"]] == [variants[0], variants[2]]
    cfg.sample.near_duplicate = 1.0  # only exact copies are duplicates: the reworded one is kept
    cfg.curate.output_dir = str(tmp_path / "exact")
    curate(cfg, ScriptedTeacher(lambda m, k: variants[k]), show_progress=False)
    [record] = read_jsonl(tmp_path / "exact/r/shards/00000-of-00001/items.jsonl")
    assert [v["meta"]["judgment"] for v in record["example"]["meta"]["variants"]] == variants[:2]


def test_a_pair_an_earlier_component_holds_is_not_judged_again(tmp_path, qwen_tokenizer):
    """Skywork v0.2 holds HelpSteer2 and OffsetBias pairs: the later copy (here in the other order, and
    once repeated within its own component) is quarantined as duplicate before the teacher sees it.
    Catches: the screen off by default, comparing the responses in one order only, a repeat within a
    component judged twice, and a row dropped though only its question is shared."""
    big = pairs(4)
    small = [dict(big[1], response_a=big[1]["response_b"], response_b=big[1]["response_a"], label="A"),  # the same pair, swapped
             dict(big[2], response_b="another answer"),  # the same question, another pair: judged
             pairs(6)[5], pairs(6)[5]]  # a pair of its own, then its repeat
    components = {"big": {"kind": "pairwise", "role": "rft", "path": str(write_jsonl(tmp_path / "big.jsonl", big))},
                  "small": {"kind": "pairwise", "role": "rft", "path": str(write_jsonl(tmp_path / "small.jsonl", small))}}
    teacher = ScriptedTeacher(lambda m, k: cot_judgment(better(m)))
    summary = curate(data_cfg(tmp_path / "out", components, seq_length=2048), teacher, show_progress=False)
    assert summary["components"]["small"]["rejected"] == {"duplicate": 2}
    assert summary["components"]["small"]["teacher"]["prompts"] == 2
    details = [c["rejected"]["detail"] for c in read_jsonl(tmp_path / "out-curated/small/shards/00000-of-00001/items.jsonl") if "rejected" in c]
    assert details == ["the same question and responses as component 'big' row 2: not judged twice",
                       "the same question and responses as row 3 of this component: not judged twice"]
    off = data_cfg(tmp_path / "off", components, seq_length=2048)
    off.curate.skip_known_pairs = False
    assert curate(off, ScriptedTeacher(lambda m, k: cot_judgment(better(m))), show_progress=False)["components"]["small"]["rejected"] == {}


def test_over_long_prompts_never_reach_the_teacher(tmp_path, qwen_tokenizer):
    """A judge prompt that with sample.max_tokens exceeds min(the teacher's context, data.seq_length)
    is quarantined as over_long before generation; the engine's reported context counts, and
    sample.context_length overrides it. Catches: no pre-filter (a 400 from the server, or an over-long
    sample dropped by the build after the teacher has paid), the limit taken from seq_length alone."""
    rows = pairs(3)
    rows[1]["question"] = "word " * 600  # ~600 tokens more than the others
    cfg = rft(tmp_path, rows, n=1, n_first=None, max_tokens=256)
    prompt = [get_template("cj2_cot").messages(JudgeExample(r["question"], [r["response_a"], r["response_b"]])) for r in rows]
    short, long = max(prompt_lengths([prompt[0], prompt[2]], qwen_tokenizer)), prompt_lengths([prompt[1]], qwen_tokenizer)[0]
    teacher = ScriptedTeacher(lambda m, k: cot_judgment(better(m)))
    teacher.context_length = short + 256  # what a vLLM server reports (max_model_len): room for the short prompts only
    summary = curate(cfg, teacher, show_progress=False)
    assert summary["components"]["r"]["rejected"] == {"over_long": 1} and len(teacher.prompts) == 2
    [rejected] = [c["rejected"] for c in read_jsonl(tmp_path / "out-curated/r/shards/00000-of-00001/items.jsonl") if "rejected" in c]
    assert rejected["row"] == 2 and rejected["detail"] == f"the judge prompt is {long} tokens: with sample.max_tokens=256 over {short + 256} (the teacher's context {short + 256})"
    cfg.sample.context_length = long + 256  # the configured context wins over the engine's
    cfg.curate.output_dir = str(tmp_path / "wider")
    assert curate(cfg, teacher, show_progress=False)["components"]["r"]["rejected"] == {}


def test_the_summary_counts_the_teachers_work_per_kept_row(tmp_path, qwen_tokenizer):
    """Prompts, candidates, prompt and completion tokens (model.tokenizer) per row, summed over shards
    and divided by the rows kept. Catches: work counted per shard only (a resumed or second shard's
    work lost), rejected rows' work left out of the total, tokens of the prompts not counted."""
    rows = pairs(4, hard={2})
    replies = {}

    def reply(messages, k):
        replies.setdefault(user_text(messages), []).append(cot_judgment(better(messages), Reasoning=f"take {k}"))
        return replies[user_text(messages)][-1]

    cfg = rft(tmp_path, rows, n=4, n_first=2, swap_positions="none")
    cfg.data.swap_positions = "none"
    cfg.curate.num_shards = 2
    summary = curate(cfg, teacher := ScriptedTeacher(reply), show_progress=False)
    work, kept = summary["components"]["r"]["teacher"], summary["components"]["r"]["kept"]
    assert kept == 3
    prompts = teacher.prompts  # row 2 asked twice (2 candidates, then 2 more: it never agrees)
    texts = [t for ts in replies.values() for t in ts]
    assert work == {"prompts": 5, "candidates": 10, "prompt_tokens": sum(prompt_lengths(prompts, qwen_tokenizer)),
                    "completion_tokens": sum(text_lengths(texts, qwen_tokenizer))}
    assert summary["per_kept_row"] == {"candidates": round(10 / 3, 2), "tokens": round((work["prompt_tokens"] + work["completion_tokens"]) / 3, 1)}



class RefusingTeacher(ScriptedTeacher):
    """Refuses, as a server answers HTTP 400, every prompt asking about question 1 (the openai engine
    raises PromptsRefused with the batch's other answers; tests/sample/test_vllm_server.py has the real server)."""

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        outputs = super().generate(prompts, n, temperature, top_p, max_tokens, seed)
        refused = {i: "HTTP 400: too long" for i, p in enumerate(prompts) if "Question number 1 " in user_text(p)}
        if refused:
            raise PromptsRefused([None if i in refused else out for i, out in enumerate(outputs)], refused)
        return outputs


def test_a_prompt_the_server_refuses_rejects_its_row_and_the_shard_goes_on(tmp_path, qwen_tokenizer):
    """Catches: the refusal escaping the shard (the array task fails, and fails again on every resume),
    or the batch's other rows lost with it."""
    summary = curate(rft(tmp_path, pairs(4), n=2), RefusingTeacher(lambda m, k: distinct_judgment(better(m), k)), show_progress=False)
    assert (summary["components"]["r"]["kept"], summary["components"]["r"]["rejected"]) == (3, {"prompt_refused": 1})
    [rejected] = [c["rejected"] for c in read_jsonl(tmp_path / "out-curated/r/shards/00000-of-00001/items.jsonl") if "rejected" in c]
    assert (rejected["row"], rejected["detail"]) == (2, "the server refused the prompt: HTTP 400: too long")
