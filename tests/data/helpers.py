"""Small builders shared by the data tests."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from cj2.config.compose import compose
from cj2.config.schema import DataComponentConfig


def write_jsonl(path: Path, rows: list) -> Path:
    """Rows are dicts (written as JSON) or raw strings (written as they are: malformed lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def data_cfg(out_dir: Path, components: dict, **data_overrides):
    """A composed config whose data section is exactly ``components`` (+ ``data.*`` overrides). The
    teacher judges every row in the CJ2 CoT (curate.template_share=0: tests of the per-row draw set it)
    and writes short judgments (sample.max_tokens=256, so that prompts fit data.seq_length=2048)."""
    cfg = compose(["data=demo", f"data.output_dir={out_dir}", f"curate.output_dir={out_dir}-curated", "curate.template_share=0", "sample.max_tokens=256"])
    cfg.data.components = {name: OmegaConf.merge(OmegaConf.structured(DataComponentConfig), comp) for name, comp in components.items()}
    for key, value in data_overrides.items():
        cfg.data[key] = value
    return cfg


def curate_and_build(cfg, teacher, **build_options) -> Path:
    """The two stages as the pipeline runs them: the teacher curates (cj2.sample.curate), then the
    build reads the curated rows and calls no teacher."""
    from cj2.data.job import build_mixture
    from cj2.sample.curate import curate

    curate(cfg, teacher, show_progress=False)
    return build_mixture(cfg, show_progress=False, **build_options)


COT_KEYS = ("User's Demand", "Strengths of Model A", "Weaknesses of Model A", "Strengths of Model B", "Weaknesses of Model B", "Reasoning", "Choice")


def cot_judgment(choice: str, **fields: str) -> str:
    """A complete CJ2 CoT judgment (the seven keys of prompts.md, in order) choosing ``choice`` ("A"/"B")."""
    values = {key: fields.get(key, f"{key}: a point about the responses.") for key in COT_KEYS}
    values["Choice"] = f"Model {choice}"
    return json.dumps(values, ensure_ascii=False, indent=1)


class ScriptedTeacher:
    """Answers every prompt with ``reply(messages, candidate_index)``; records what it was asked.

    The teacher's verdicts must be known in advance to check keep/drop logic, so tests that are
    about curation rules script them (same ``generate`` interface as the cj2.sample engines). As a
    seeded engine does, it gives candidate ``j`` of a prompt for seed ``s + j``: a later call for the
    rest of a prompt's candidates (adaptive sampling asks with the seed moved on) continues the list.
    """

    def __init__(self, reply):
        from cj2.sample.engines.base import Usage

        self.reply, self.prompts, self.usage = reply, [], Usage()
        self.first_seed: dict[str, int] = {}  # prompt -> the seed it was first asked with

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        from cj2.sample.engines.base import seeds_for

        self.prompts += prompts
        out = []
        for p, s in zip(prompts, seeds_for(prompts, seed), strict=True):
            start = s - self.first_seed.setdefault(json.dumps(p), s)
            out.append([self.reply(p, start + k) for k in range(n)])
        return out

    def close(self):
        pass
