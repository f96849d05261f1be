"""Evaluation through a real OpenAI-compatible server (`transformers serve`, started through
slurm/teacher_server.sbatch), killed with SIGKILL mid-run and resumed.

The judged requests are committed through cj2.utils.shard_store as they complete; the rerun
must judge exactly the requests the killed run had not stored, and end with the same predictions
and the same result file as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import RUN_TIMEOUT_S, kill_once_committed
from tests.sample.conftest import tiny_qwen2_dir, transformers_server  # noqa: F401  (session fixtures shared with the engine tests)

ITEMS = 6
KILL_AFTER = 2  # committed judgments before the SIGKILL
CHAT_POST = "POST /v1/chat/completions"


def write_judgebench(path: Path, items: int = ITEMS) -> Path:
    rows = [
        {"pair_id": f"p{i}", "question": f"What is {i} + {i}?", "response_A": str(2 * i) if i % 2 else "no idea", "response_B": "no idea" if i % 2 else str(2 * i), "label": "A>B" if i % 2 else "B>A", "source": "mmlu-pro-math" if i < 3 else "livebench-math"}
        for i in range(items)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def overrides(server: dict, data: Path, run_dir: Path) -> list[str]:
    # Concurrency 1: `transformers serve` seeds its global torch RNG per request, so only requests
    # that do not overlap are reproducible; flush_every=1 commits every judgment on its own.
    return [
        "eval=judgebench", f"eval.data_file={data}", "eval.engine=openai", f"eval.base_url_file={server['address_file']}", "eval.server_wait_s=60",
        f"eval.model={server['model']}", "eval.max_tokens=4", "eval.temperature=1.0", "eval.concurrency=1", "eval.flush_every=1",
        "eval.plots=false", "eval.progress=false", f"run_dir={run_dir}",
    ]  # fmt: skip


def stored(run_dir: Path) -> int:
    """Judgments a kill can no longer lose: the lines of the committed parts (or of the finished shard)."""
    shard = run_dir / "judging_judgebench/shards/00000-of-00001"
    if (shard / "manifest.json").exists():
        return len((shard / "items.jsonl").read_text().splitlines())
    total = 0
    for part in shard.glob("parts/part-*.jsonl"):
        try:
            total += len(part.read_text().splitlines())
        except FileNotFoundError:  # merged away by a finishing shard between the glob and the read
            pass
    return total


def server_requests(server: dict) -> int:
    return Path(server["log"]).read_text().count(CHAT_POST)


def launch_eval(repo_root: Path, args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)}
    with open(log, "a") as out:
        return subprocess.Popen([sys.executable, "launch/eval.py", *args], cwd=repo_root, stdout=out, stderr=subprocess.STDOUT, env=env)


@pytest.mark.slow
def test_killed_server_evaluation_resumes_without_rejudging(repo_root, transformers_server, tmp_path):  # noqa: F811
    """Catches: a rerun that ignores the stored parts and judges everything again (mutant
    ``done = set()`` in cj2.eval.judging.stored_judging: judged_this_run and the server's request count)."""
    from cj2.config import compose, finalize
    from cj2.eval.job import run

    data = write_judgebench(tmp_path / "judgebench.jsonl")
    reference_dir = tmp_path / "reference"
    before = server_requests(transformers_server)
    run(finalize(compose(overrides(transformers_server, data, reference_dir))))
    assert server_requests(transformers_server) - before == ITEMS  # the log does count requests

    run_dir, log = tmp_path / "killed", tmp_path / "eval.log"
    args = overrides(transformers_server, data, run_dir)
    proc = launch_eval(repo_root, args, log)
    kept = kill_once_committed(proc, lambda: stored(run_dir), KILL_AFTER, log, "judgments")
    assert KILL_AFTER <= kept < ITEMS and not (run_dir / "eval_judgebench.json").exists()

    before = server_requests(transformers_server)
    rerun = launch_eval(repo_root, args, log)
    assert rerun.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()[-3000:]
    manifest = json.loads((run_dir / "judging_judgebench/shards/00000-of-00001/manifest.json").read_text())
    assert (manifest["resumed"], manifest["judged_this_run"], manifest["items"]) == (kept, ITEMS - kept, ITEMS)
    # The killed run's request in flight (at most one, concurrency 1) may reach the log late.
    assert ITEMS - kept <= server_requests(transformers_server) - before <= ITEMS - kept + 1

    assert (run_dir / "predictions_judgebench.jsonl").read_text() == (reference_dir / "predictions_judgebench.jsonl").read_text()
    assert json.loads((run_dir / "eval_judgebench.json").read_text()) == json.loads((reference_dir / "eval_judgebench.json").read_text())

    # A third run finds every judgment stored: no request, no model, the same result.
    before = server_requests(transformers_server)
    run(finalize(compose(overrides(transformers_server, data, run_dir))))
    assert server_requests(transformers_server) == before


@pytest.mark.slow
def test_revision_through_a_policy_server(transformers_server, shared_data, tmp_path):  # noqa: F811
    """Critique-guided revision end to end with the served model as policy and judge, on two real
    GSM8K tasks and one without a gold answer.

    Catches: the first answers reported as the revised ones (mutant ``revised = answers``; the
    stages have their own seeds, so the tiny random model's replies differ). The server's request
    count checks that each stage is sent once: 3 answers, 3 critiques, 3 revisions, 2 ratings."""
    from cj2.eval.studies.revision import run

    tasks = tmp_path / "tasks.jsonl"
    gsm8k = [json.loads(line) for line in (shared_data / "gsm8k/test.jsonl").read_text().splitlines()[:2]]
    tasks.write_text("".join(json.dumps(t) + "\n" for t in [*gsm8k, {"id": "greet", "question": "Write a one-line greeting."}]))
    server = transformers_server
    from cj2.config import compose, finalize

    cfg = finalize(compose([
        f"eval.data_file={tasks}", "eval.engine=openai", f"eval.base_url={server['base_url']}", f"eval.model={server['model']}",
        f"eval.policy_base_url={server['base_url']}", f"eval.policy_model={server['model']}", "eval.max_tokens=6",
        "eval.temperature=1.0", "eval.concurrency=1", "eval.progress=false", f"run_dir={tmp_path / 'run'}",
    ]))  # fmt: skip
    before = server_requests(server)
    report = run(cfg)
    assert server_requests(server) - before == 11
    assert report["tasks"] == 3 and report["gold"]["tasks"] == 2 and report["judged"]["tasks"] == 1
    items = [json.loads(line) for line in (tmp_path / "run/revision_items.jsonl").read_text().splitlines()]
    stage = {s: [json.loads(line)["prediction"] for line in (tmp_path / f"run/revision/{s}/shards/00000-of-00001/items.jsonl").read_text().splitlines()] for s in ("answer", "revise")}
    assert [i["answer"] for i in items] == stage["answer"] and [i["revised"] for i in items] == stage["revise"] != stage["answer"]
    assert items[0]["gold"] == gsm8k[0]["answer"]
    assert (tmp_path / "run/revision.md").read_text().startswith("# Critique-guided revision")
