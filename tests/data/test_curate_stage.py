"""Teacher curation is its own stage: sharded, exactly once across kills, read by a build that calls no teacher.

The mixture is conf/data/cj2.yaml over small files: ``public_judge`` (rejudge: rows before the
cut-off re-judged, the rest re-templated, one bad date), ``knowledge`` (synthesize: three engine
answers per question, picks steered to half correct) and ``chat_style`` (synthesize). The teacher
is tests.data.teachers.MarkerTeacher, an engine class the launcher loads by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cj2.config import compose, finalize
from cj2.data.curation.curated import CurationMissing
from cj2.data.job import build_mixture
from cj2.sample.curate import CurationMismatch, curate
from tests.data.helpers import cot_judgment, read_jsonl, write_jsonl
from tests.data.teachers import MarkerTeacher
from tests.data.test_build_sharing import cj2_inputs
from tests.processes import RUN_TIMEOUT_S, kill_once_committed

KILL_AT = (4, 14, 27)  # committed rows: inside the first shard, the second shard, knowledge shard 0 (picks to restore)
TEACHER = "tests.data.teachers:MarkerTeacher"


def write_inputs(folder: Path, samples: Path) -> None:
    cj2_inputs(folder, samples)
    rows = []
    for i in range(24):
        good = "A" if i % 3 else "B"
        label = good if i % 5 else {"A": "B", "B": "A"}[good]  # every fifth human label disagrees with the teacher: teacher_disagrees
        rows.append({"question": f"Q{i}", "response_a": "GOOD answer" if good == "A" else "weak answer", "response_b": "GOOD answer" if good == "B" else "weak answer",
                     "label": label, "date": "not a date" if i == 7 else ("2024-03-01" if i < 20 else "2024-12-01"), "judgment": cot_judgment(label)})
    write_jsonl(folder / "public_judge.jsonl", rows)
    write_jsonl(folder / "knowledge.jsonl", [{"question": f"What is {i} + {i}?", "gold": f"#### {2 * i}"} for i in range(1, 13)])


def overrides(tmp_path: Path, *extra: str) -> list[str]:
    return ["data=cj2", "model=tiny", f"run_dir={tmp_path / 'run'}", f"data.output_dir={tmp_path / 'data'}", f"sample.output_dir={tmp_path / 'samples'}",
            f"curate.output_dir={tmp_path / 'curated'}", f"sample.engine={TEACHER}", "sample.n=2", "curate.num_shards=2", "curate.flush_every=3",
            "curate.progress=false", "curate.template_share=0", "sample.max_tokens=256", "data.max_reject_fraction=1.0", "data.seq_length=2048",
            "data.components.knowledge.options.answer_type=number", "++data.components.knowledge.options.responses_per_question=3",
            "++data.components.knowledge.options.correct_fraction=0.5", *extra]


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    write_inputs(tmp_path / "in", tmp_path / "samples")
    monkeypatch.setenv("CJ2_DATA", str(tmp_path / "in"))
    return tmp_path / "in"


def config(tmp_path: Path, *extra: str):
    return finalize(compose(overrides(tmp_path, *extra)))


def shard_items(curated: Path) -> dict[str, list[dict]]:
    return {p.parent.parent.parent.name + "/" + p.parent.name: read_jsonl(p) for p in sorted(curated.glob("*/shards/*/items.jsonl"))}


def committed_rows(curated: Path) -> int:
    """Rows a kill can no longer lose: committed parts, and shards finished (a part merged away
    between two globs can hide its rows from one poll; the count never overstates)."""
    def lines(path):
        try:
            return len(path.read_text().splitlines())
        except FileNotFoundError:
            return 0
    return sum(lines(p) for p in curated.glob("*/shards/*/parts/part-*.jsonl")) + sum(
        lines(p) for p in curated.glob("*/shards/*/items.jsonl") if (p.parent / "manifest.json").exists())


def test_the_build_reads_curated_rows_and_calls_no_teacher(tmp_path, inputs, monkeypatch, qwen_tokenizer):
    """Rows in = rows kept + rows rejected across the two stages; the build runs without a teacher.
    Catches: the build curating again (a teacher call during build_mixture), curated rows merged out
    of order across shards (row i from shard i % 2), and rejections lost between the stages."""
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("CJ2_TEST_CALL_LOG", str(calls))
    cfg = config(tmp_path)
    summary = curate(cfg, MarkerTeacher(), show_progress=False)
    judge = summary["components"]["public_judge"]
    assert {k: judge[k] for k in ("role", "rows", "kept", "rejected")} == {"role": "rejudge", "rows": 24, "kept": 19, "rejected": {"bad_date": 1, "teacher_disagrees": 4}}
    assert (judge["teacher"]["prompts"], judge["teacher"]["candidates"]) == (19, 19)  # the outdated rows with a readable date, one order, n=1
    asked = calls.read_text()
    assert summary["components"]["knowledge"]["rows"] == 12 and asked
    out = build_mixture(cfg, show_progress=False)
    assert calls.read_text() == asked
    stats = json.loads((out / "stats.json").read_text())["components"]
    for name in ("public_judge", "knowledge", "chat_style"):
        assert stats[name]["rows_in"] == summary["components"][name]["rows"] == stats[name]["kept"] + sum(stats[name]["rejected"].values()), name
        assert stats[name]["rejected"] == summary["components"][name]["rejected"], name
    # knowledge picks steered to half correct over each shard (six questions per shard)
    assert stats["knowledge"]["verdicts"] == {"correct": 6, "incorrect": 6}
    quarantine = read_jsonl(out / "quarantine.jsonl")
    assert sorted(q["row"] for q in quarantine if q["component"] == "public_judge") == [1, 6, 8, 11, 16]  # file rows of i = 0, 5, 7, 10, 15


def test_one_shard_and_three_shards_build_the_same_mixture(tmp_path, inputs, qwen_tokenizer):
    """Seeds follow rows, not shards: for rejudge and chat_style the split changes nothing.
    Catches: shards merged by concatenation instead of by row (the mixture's order and ids change),
    and seeds drawn from a shard's position."""
    results = {}
    for shards in (1, 3):
        cfg = config(tmp_path, f"curate.num_shards={shards}", f"curate.output_dir={tmp_path / f'curated{shards}'}", f"data.output_dir={tmp_path / f'data{shards}'}",
                     "~data.components.knowledge", "~data.components.rft", "~data.components.general_sft")
        curate(cfg, MarkerTeacher(), show_progress=False)
        results[shards] = (build_mixture(cfg, show_progress=False) / "train.jsonl").read_bytes()
    assert results[1] == results[3] and results[1]


def test_the_build_refuses_missing_or_foreign_curation(tmp_path, inputs):
    """Catches: a build that silently skips a teacher component it has no curated rows for, or reads
    rows curated with another teacher."""
    cfg = config(tmp_path)
    with pytest.raises(CurationMissing, match=r"component 'public_judge' \(role rejudge\).*no run.json.*python launch/curate.py data=cj2"):
        build_mixture(cfg, show_progress=False)
    curate(cfg, MarkerTeacher(), show_progress=False)
    hotter = config(tmp_path, "sample.temperature=0.3")
    with pytest.raises(CurationMissing, match=r"curated with other settings \(teacher: .*'temperature': 1.0.*'temperature': 0.3"):
        build_mixture(hotter, show_progress=False)
    with pytest.raises(CurationMismatch, match="holds a curation with other settings"):
        curate(hotter, MarkerTeacher(), show_progress=False)


def test_the_data_build_imports_no_sampling_code():
    """Sampling produces, the build consumes. Catches: cj2.data importing cj2.sample (the old
    in-build curation pulled the engines into every build)."""
    code = "import sys, cj2.data.job, cj2.data.curation.curated; print(sorted(m for m in sys.modules if m.startswith('cj2.sample')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def launch_curate(repo_root: Path, args: list[str], log: Path, calls: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root), "CJ2_TEST_CALL_LOG": str(calls), "CJ2_TEST_TEACHER_DELAY_S": "0.15"}
    with open(log, "a") as out:
        return subprocess.Popen([sys.executable, "launch/curate.py", *args], cwd=repo_root, stdout=out, stderr=subprocess.STDOUT, env=env)


@pytest.mark.slow
def test_curation_killed_three_times_resumes_to_the_uninterrupted_rows(tmp_path, inputs, repo_root, qwen_tokenizer):
    """SIGKILL ``launch/curate.py`` three times, rerun: the shards' rows equal an uninterrupted run's
    row for row, every teacher call of that run was made, and only the batches in flight at a kill
    were asked twice. Catches: a resumed shard re-curating committed rows (repeated calls), skipping
    the batch in flight (rows lost), and knowledge picks steered from zero after a resume (another
    share of correct answers: the rows differ)."""
    ref_calls, calls, log = tmp_path / "ref_calls.txt", tmp_path / "calls.txt", tmp_path / "runs.log"
    reference = launch_curate(repo_root, overrides(tmp_path, f"curate.output_dir={tmp_path / 'reference'}"), log, ref_calls)
    assert reference.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()[-3000:]
    args, curated = overrides(tmp_path), tmp_path / "curated"
    reached = [kill_once_committed(launch_curate(repo_root, args, log, calls), lambda: committed_rows(curated), k, log, "rows") for k in KILL_AT]
    assert reached == sorted(reached) and not (curated / "summary.json").exists()
    final = launch_curate(repo_root, args, log, calls)
    assert final.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()[-3000:]

    assert shard_items(curated) == shard_items(tmp_path / "reference")
    wanted, made = ref_calls.read_text().split(), calls.read_text().split()
    assert set(made) == set(wanted)  # nothing lost
    repeated = len(made) - len(wanted)
    # at most the batch in flight at each kill: 3 rows, each judged in up to 2 orders (or 2 style prompts)
    assert 0 <= repeated <= len(KILL_AT) * 3 * 2, repeated
    print(f"teacher calls: {len(wanted)} uninterrupted, {len(made)} across 3 kills ({repeated} repeated)")
    assert json.loads((curated / "summary.json").read_text()) == json.loads((tmp_path / "reference" / "summary.json").read_text()) | {"output_dir": str(curated)}
