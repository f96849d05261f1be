"""Template diversity in curation (curate.template_share): rows judged under a template drawn per row,
kept only where that template's own parser reads the label; Chinese rows in Chinese templates."""

from __future__ import annotations

import json
from collections import Counter

from cj2.data.curation.retemplate import COMPOSABLE
from cj2.data.templates import get_template
from tests.data.helpers import ScriptedTeacher, cot_judgment, curate_and_build, data_cfg, read_jsonl, write_jsonl
from tests.data.teachers import judge_in_its_format, read_judge_prompt


def rows(language: str, count: int, tie_every: int = 0) -> list[dict]:
    out = []
    for i in range(count):
        tie = tie_every and i % tie_every == 0
        label = "tie" if tie else "AB"[i % 2]
        out.append({"question": f"{language} question {i}", "response_a": f"GOOD {i}" if label == "A" else f"answer {i}",
                    "response_b": f"GOOD {i}" if label == "B" else f"reply {i}", "label": label, "language": language})
    return out


def winner(question, a, b):
    return "A" if a.startswith("GOOD") else "B" if b.startswith("GOOD") else "tie"


def build(tmp_path, share, reply, data=None):
    components = {"en": {"kind": "pairwise", "role": "rft", "path": str(write_jsonl(tmp_path / "en.jsonl", rows("en", 40, tie_every=5))), "max_reject_fraction": 1.0},
                  "cn": {"kind": "pairwise", "role": "rft", "path": str(write_jsonl(tmp_path / "cn.jsonl", rows("cn", 12))), "max_reject_fraction": 1.0}}
    cfg = data_cfg(tmp_path / "out", components, validation_fraction=0.0, seq_length=2048, **(data or {}))
    cfg.curate.template_share = share
    return curate_and_build(cfg, ScriptedTeacher(reply))


def test_rows_are_judged_under_templates_drawn_per_row_and_kept_in_their_format(tmp_path, qwen_tokenizer):
    """share 1: every row under a drawn community template of its language that can state its label
    (ties only under Arena-Hard, MT-Bench and WildBench formats), kept where that format's parser reads
    the label; the build counts kept samples per format. Catches: curation always in the CoT (no
    JudgerBenchV2 "winner" format among the targets), a template of the wrong language, a tie judged
    under a two-way format, a judgment kept in a format its template does not parse."""
    out = build(tmp_path, 1.0, lambda m, k: judge_in_its_format(m, winner))
    samples = read_jsonl(out / "train.jsonl")
    by_source = {name: Counter(get_template(s["meta"]["template"]).verdict_format for s in samples if s["source"] == name) for name in ("en", "cn")}
    assert set(by_source["cn"]) == {"judgerbench_cn"}  # the only Chinese template a judgment can be composed in
    assert set(by_source["en"]) <= set(COMPOSABLE) - {"judgerbench_cn"} and {"judgerbench_en", "arena_hard", "cj2_short"} <= set(by_source["en"])
    ties = [s for s in samples if s["verdict"] == "tie"]
    assert ties and {s["verdict_format"] for s in ties} <= {"arena_hard", "mtbench_pair", "wildbench"}
    stats = json.loads((out / "stats.json").read_text())
    assert stats["kept"] == 52  # every row: the teacher writes each template's own format
    assert stats["formats"]["judgerbench_cn"]["count"] == 12 and stats["formats"]["judgerbench_en"]["count"] == by_source["en"]["judgerbench_en"]
    assert stats["languages"] == {"cn": {"count": 12, "share": round(12 / 52, 4)}, "en": {"count": 40, "share": round(40 / 52, 4)}}


def test_a_judgment_in_another_format_than_its_template_is_not_kept(tmp_path, qwen_tokenizer):
    """A teacher that answers every drawn template in the CJ2 CoT: the "winner", Arena-Hard ... parsers
    read no verdict, so those rows are teacher_disagrees (only the short-Choice templates, whose slot the
    CoT holds, keep theirs); at share 0 every row is judged in the CoT
    (cj2_cot_cn for Chinese ones) and kept. Catches: a candidate accepted by the CoT parser whatever
    template asked for it."""
    def cot(messages, k):
        template, values = read_judge_prompt(messages)
        return cot_judgment("A" if winner(*values.values()) == "A" else "B")

    drawn = build(tmp_path / "drawn", 1.0, cot)
    kept = read_jsonl(drawn / "train.jsonl")
    assert kept and {s["verdict_format"] for s in kept} == {"cj2_short"}  # its {"Choice": "Model A"} slot is the CoT's; nothing else reads
    assert json.loads((drawn / "stats.json").read_text())["components"]["en"]["rejected"]["teacher_disagrees"] > 20
    plain = build(tmp_path / "plain", 0.0, cot)
    samples = read_jsonl(plain / "train.jsonl")
    assert {(s["source"], s["meta"]["template"]) for s in samples} == {("en", "cj2_cot"), ("cn", "cj2_cot_cn")}
    assert len(samples) == 32 + 12  # the eight English ties cannot be stated in the CoT
