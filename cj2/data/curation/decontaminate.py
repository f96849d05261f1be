"""Evaluation sets never train: the benchmarks' data identities and the build's question-overlap screen.

Two guards, both lifted per component by ``data.components.NAME.allow_eval_source: true``:

- **Identity** (:func:`eval_source`, run by config validation before any job starts): a component
  whose ``hub_name`` or ``path`` names the data of a benchmark of ``conf/eval/`` is refused. The
  benchmarks are the eval configs (:func:`registered_benchmarks`); :data:`EVAL_DATA` says how each
  one's published data is named (folder / file names, Hub ids), and an eval config's own
  ``data_file`` / ``data_dir`` count as well.
- **Overlap** (:func:`screen`, run by the curation stage before the teacher and by the build's
  workers before rendering): a training row whose normalized question (:func:`normalized`) is a
  question of an evaluation file is quarantined as ``eval_overlap``, naming the source (``about``:
  the benchmark or folder), the file and the row; the build counts them per source. The files
  (:func:`evaluation_sources`, on by default, off with ``data.decontaminate=false``): every registered
  benchmark's data that is present (its eval config's ``data_file`` / ``data_dir``, the run's own
  ``eval.data_file`` / ``eval.data_dir``, and ``<data.eval_data>/<benchmark>``), and each entry of
  ``data.decontaminate_against``. RFT components (reward pairs) are also screened against the
  prompt sources RewardBench draws its prompts from (:data:`REWARDBENCH_PROMPT_SOURCES`, folders of
  ``data.eval_data``): UltraFeedback, Nectar and HH prompts overlap them, and RewardBench scores a
  judge on exactly those prompts.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath

from cj2.data.records import JudgeExample, RejectedRow, TrainingSample
from cj2.data.sources.raw import SUFFIX_FORMATS, RawLine, SourceError, iter_rows, parse_line


@dataclass(frozen=True)
class EvalData:
    """How one benchmark's data is named where it is published."""

    names: tuple[str, ...] = ()  # dataset names: a Hub id's name, or a path's file stem or its folder
    globs: tuple[str, ...] = ()  # file or folder names (fnmatch, any case) matched anywhere in a path
    paths: tuple[str, ...] = ()  # the eval config's own data_file / data_dir


# Keyed by the conf/eval config names (tests/data/test_decontaminate.py checks that every eval
# config has an entry). Names are compared normalized (lower case, letters and digits only), so
# "reward-bench", "RewardBench" and "reward_bench" are one name. PandaLM and Auto-J publish training
# data beside their test sets, so only their test files are named, never the whole dataset.
EVAL_DATA = {
    "judgebench": EvalData(names=("judgebench",), globs=("judgebench_*.jsonl", "dataset=judgebench*")),  # ScalerLab/JudgeBench
    "judgerbenchv2": EvalData(names=("judgerbenchv2",)),  # the ten {scenario}.json of OpenCompass's JudgerBenchV2
    "rmb": EvalData(names=("rmb", "rmbrewardmodelbenchmark"), globs=("RMB_dataset",)),  # Zhou-Zoey/RMB-Reward-Model-Benchmark
    "rewardbench": EvalData(names=("rewardbench",)),  # allenai/reward-bench
    "pandalm": EvalData(globs=("testset-v1.json",)),  # WeOpenML/PandaLM data/testset-v1.json
    "llmbar": EvalData(names=("llmbar",), globs=("LLMBar",)),  # princeton-nlp/LLMBar Dataset/LLMBar/...
    "autoj_pairwise": EvalData(globs=("testdata_pairwise.jsonl",)),  # GAIR-NLP/auto-j data/test/
    "mini_heldout": EvalData(globs=("heldout_pairs.jsonl",)),  # the mini ablation's held-out pairs (cj2.data.curation.verifiable_pairs)
}


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


@lru_cache(maxsize=1)
def registered_benchmarks() -> dict[str, EvalData]:
    """Every benchmark of ``conf/eval/*.yaml`` with its data identity (:data:`EVAL_DATA` plus the
    config's own data files)."""
    from omegaconf import OmegaConf

    from cj2.config.compose import CONF_DIR

    out = {}
    for path in sorted((CONF_DIR / "eval").glob("*.yaml")):
        cfg = OmegaConf.load(path)
        name = str(cfg.get("name") or path.stem)
        known = EVAL_DATA.get(name, EvalData())
        own = tuple(str(cfg[key]) for key in ("data_file", "data_dir") if cfg.get(key))
        out[name] = EvalData(known.names, known.globs, known.paths + own)
    return out


def _path_match(path: str, data: EvalData) -> str | None:
    parts = PurePath(path).parts
    for glob in data.globs:
        hit = next((p for p in parts if fnmatch.fnmatch(p.casefold(), glob.casefold())), None)
        if hit:
            return f"{hit!r} is its published file or folder name"
    # Only the file and its folder: a parent far up (a home directory) says nothing about the data.
    for part in parts[-2:]:
        if _norm(PurePath(part).stem) in {_norm(n) for n in data.names}:
            return f"{part!r} names it"
    for own in data.paths:
        mine, resolved = Path(own).expanduser().resolve(), Path(path).expanduser().resolve()
        if resolved == mine or mine in resolved.parents:
            return f"its eval config reads {own}"
    return None


def eval_source(path: str | None, hub_name: str | None, extra: list[tuple[str, str]] = ()) -> tuple[str, str] | None:
    """``(benchmark, why)`` when ``path`` or ``hub_name`` is a registered benchmark's data, else None.

    ``extra`` adds ``(benchmark, data path)`` pairs (the run's own ``eval.data_file`` / ``eval.data_dir``)."""
    benchmarks = dict(registered_benchmarks())
    for bench, own in extra:
        known = benchmarks.get(bench, EvalData())
        benchmarks[bench] = EvalData(known.names, known.globs, known.paths + (own,))
    for bench, data in benchmarks.items():
        if hub_name and _norm(hub_name.split("/")[-1]) in {_norm(n) for n in data.names}:
            return bench, f"the Hub dataset {hub_name!r} is its data"
        if path and (why := _path_match(path, data)):
            return bench, why
    return None


# ---- prompt overlap -------------------------------------------------------------------------

# Columns that hold the question in the benchmarks' own files (JudgeBench question, PandaLM
# instruction + input, LLMBar input, RewardBench / JudgerBenchV2 / Auto-J prompt, RMB
# conversation_input, MT-Bench turns) and in common training sets.
QUESTION_COLUMNS = ("question", "prompt", "input", "instruction", "query", "conversation_input", "conversation", "messages", "turns")


def normalized(text: str) -> str:
    """The question as compared: Unicode-normalized, case-folded, punctuation and spacing ignored,
    so a question re-joined with other separators or re-quoted still matches."""
    return " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).split())


def question_hash(text: str) -> bytes:
    return hashlib.blake2b(normalized(text).encode("utf-8"), digest_size=12).digest()


def _texts(row: dict) -> Iterator[str]:
    """Every text an evaluation row may show as its question, as a training source would map it."""
    from cj2.data.sources.fields import FieldError, resolve

    for column in QUESTION_COLUMNS:
        value = row.get(column)
        if isinstance(value, str):
            yield value
        elif isinstance(value, list) and value:
            if all(isinstance(v, str) for v in value):
                yield from value  # MT-Bench turns
            elif all(isinstance(m, dict) and "content" in m for m in value):
                try:
                    yield resolve(row, f"chat:{column}")  # the dialogue as a chat: field spec writes it
                except FieldError:
                    pass
                yield from (str(m["content"]) for m in value if m.get("role", "user") == "user")
    if isinstance(row.get("instruction"), str) and isinstance(row.get("input"), str):
        yield f"{row['instruction']}\n\n{row['input']}"  # PandaLM: "{instruction}\n\n{input}"


def _eval_files(root: str) -> list[Path]:
    path = Path(root)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIX_FORMATS)
    raise SourceError(f"data.decontaminate_against: {root}: no such file or folder (point it at evaluation data, or remove it)")


def load_questions(paths: list[str]) -> dict[bytes, str]:
    """``{question hash: "FILE row N"}`` over every row of every file under ``paths``."""
    questions: dict[bytes, str] = {}
    for root in paths:
        for file in _eval_files(root):
            for _, item in iter_rows("eval", str(file)):
                item = parse_line("eval", str(file), item) if isinstance(item, RawLine) else item
                if isinstance(item, RejectedRow):
                    continue  # an unreadable evaluation row has no question to protect
                number, row = item
                for text in _texts(row):
                    if text.strip():
                        questions.setdefault(question_hash(text), f"{file} row {number}")
    return questions


# The prompt sources of RewardBench (allenai/reward-bench: its chat, chat-hard, safety and reasoning
# subsets draw their prompts from these sets), as folder names under data.eval_data.
REWARDBENCH_PROMPT_SOURCES = ("alpacaeval", "mt-bench", "llmbar", "xstest", "donotanswer", "humanevalpack", "prm800k")


def evaluation_sources(cfg) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """``(every component's sources, the RFT components' extra sources, RewardBench sources not found)``:
    each ``{source name: [existing files or folders]}``."""
    root = Path(cfg.data.eval_data) if cfg.data.eval_data else None
    general: dict[str, list[str]] = {}
    run_own = {cfg.eval.name: [p for p in (cfg.eval.data_file, cfg.eval.data_dir) if p]}
    for bench, data in registered_benchmarks().items():
        candidates = [*data.paths, *run_own.get(bench, []), *([str(root / bench)] if root else [])]
        present = sorted({p for p in candidates if Path(p).exists()})
        if present:
            general[bench] = present
    for path in cfg.data.decontaminate_against:
        general.setdefault(PurePath(path).name, []).append(str(path))  # a missing entry is an error at loading
    reward = {source: [str(root / source)] for source in REWARDBENCH_PROMPT_SOURCES if root and (root / source).exists()}
    return general, reward, [source for source in REWARDBENCH_PROMPT_SOURCES if source not in reward]


# The loaded questions of the build in progress: set before its worker pool forks, so that every
# worker inherits them instead of receiving them with each chunk. Hash -> (source, "FILE row N").
_ACTIVE: dict[bytes, tuple[str, str]] = {}
_REWARD: dict[bytes, tuple[str, str]] = {}  # RewardBench's prompt sources, screened for rft components only


def _load_sources(sources: dict[str, list[str]], into: dict[bytes, tuple[str, str]]) -> None:
    for source, paths in sources.items():
        for question, where in load_questions(paths).items():
            into.setdefault(question, (source, where))


def load(cfg) -> None:
    """Read the evaluation questions for the build or curation that starts (nothing when it is off)."""
    unload()
    if not cfg.data.decontaminate:
        return
    general, reward, missing = evaluation_sources(cfg)
    _load_sources(general, _ACTIVE)
    if any(c.role == "rft" for c in cfg.data.components.values()):
        _load_sources(reward, _REWARD)
        if missing:
            print(f"cj2: RewardBench prompt sources not found under data.eval_data ({cfg.data.eval_data}): {', '.join(missing)}; "
                  "reward pairs are not screened against them", file=sys.stderr)
    if not general and not _REWARD:
        print(f"cj2: decontamination is on but no evaluation set was found (data.eval_data={cfg.data.eval_data}, CJ2_EVAL_DATA): "
              "nothing is screened; point data.eval_data at the benchmark files, or set data.decontaminate=false", file=sys.stderr)
        return
    loaded = f"{len(_ACTIVE)} evaluation questions from {', '.join(general) or 'no source'}"
    if _REWARD:
        loaded += f" and {len(_REWARD)} RewardBench prompts from {', '.join(reward)} (rft components)"
    print(f"cj2: {loaded}: training rows asking one are quarantined (eval_overlap)", file=sys.stderr)


def unload() -> None:
    _ACTIVE.clear()
    _REWARD.clear()


def _question(record) -> str | None:
    if isinstance(record, JudgeExample):
        return record.question
    if isinstance(record, TrainingSample):  # G-SFT: the first user turn is its question
        return next((m.get("content") for m in record.messages if m.get("role") == "user"), None)
    return None


def screen(name: str, source, items: list) -> list:
    """``items`` (index, record or source row) of component ``name`` (``source``: its plain config,
    None for generated rows) with every row whose question is in the loaded evaluation data
    replaced by its ``eval_overlap`` rejection (rows parsed here are not parsed again)."""
    reward = _REWARD if source is not None and source.role == "rft" else {}
    if not (_ACTIVE or reward) or (source is not None and source.allow_eval_source):
        return items
    from cj2.data.sources.loaders import SourceRow, example_of

    out = []
    for index, item in items:
        record = example_of(source, name, item) if isinstance(item, SourceRow) else item
        question = _question(record)
        key = question_hash(question) if isinstance(question, str) and question.strip() else None
        found = _ACTIVE.get(key) or reward.get(key) if key is not None else None
        if found is not None:
            bench, where = found
            record = RejectedRow(name, str(record.meta.get("file", name)), int(record.meta.get("row", 0)), "eval_overlap",
                                 f"the question is also in the evaluation data of {bench} ({where})", about=bench)
        out.append((index, record))
    return out
