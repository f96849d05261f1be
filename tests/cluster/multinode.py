"""The two-node tier's runs: one small training config, its data and HF start, and every job
of the tier submitted at once, so that their startups, the requeue delay and the collective timeout
overlap on the two cores instead of adding up:

- ``one`` (one process on localhost), ``dp2`` and ``pp2`` (one process on each namespace node),
  uninterrupted: the references;
- ``preempted`` (DP2) holds both ranks after step 3 until the test sends SIGUSR2;
- ``lost`` (DP2) holds both ranks after step 3 until the test is ready (``gate/go``), then rank 1
  as checkpoint 4 starts (rank 0 waits for it in the save's collective), until its node is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from safetensors.torch import load_file

from tests.cluster.conftest import MULTI
from tests.cluster.helpers import result_of, slurm_config
from tests.train.test_layouts import tiny_hf_checkpoint

# The tiny model on 24 demo samples, one packed row of 256 tokens per rank and step: 4 steps,
# checkpoints at steps 2 and 4. A collective waits 20 s for a lost peer.
STEPS = 4
TIMEOUT_S = 20


def training_config(run_dir, data_dir, hf_dir, *overrides: str):
    return slurm_config(
        run_dir, f"data.output_dir={data_dir}", "data.components.arithmetic.num_samples=24", "data.seq_length=256", "data.validation_fraction=0.0",
        f"model.hf_path={hf_dir}", f"train.max_steps={STEPS}", "train.save_interval=2", "train.keep_checkpoints=3", "train.eval_interval=0",
        "train.precision=fp32", "parallel.micro_batch_size=1", "parallel.global_batch_size=2", f"parallel.collective_timeout_s={TIMEOUT_S}",
        "cluster.mem_gb=2", "cluster.time_min=15", *overrides)


def across_nodes(*layout: str) -> tuple[str, ...]:
    """Overrides for one process on each of the two namespace nodes; the tier's jobs share CPUs."""
    return ("cluster.nodes=2", f"cluster.partition={MULTI}", "cluster.nproc=1", "+cluster.additional.oversubscribe=true", *layout)


@dataclass
class Run:
    run_dir: Path
    summary: dict

    def weights(self) -> dict:
        """The exported judge's tensors (every pipeline stage's shard)."""
        tensors: dict = {}
        for shard in sorted((self.run_dir / "hf").glob("*.safetensors")):
            tensors.update(load_file(str(shard)))
        return tensors

    def attempts(self) -> list[dict]:
        return json.loads((self.run_dir / "run.json").read_text())["attempts"]


class Runs:
    """Builds the inputs, submits the tier's jobs; ``run(name)`` waits for one and returns it."""

    LAYOUTS = {
        "one": ("cluster.partition=debug",),
        "dp2": across_nodes("parallel.dp=2"),
        # The PP2 run names its interface in the config; the others derive it.
        "pp2": across_nodes("parallel.pp=2", "cluster.socket_ifname=eth0"),
        "preempted": across_nodes("parallel.dp=2", "tracking=offline"),
        "lost": across_nodes("parallel.dp=2"),
    }
    GATES = {
        "preempted": [{"at": "step", "step": 3, "ranks": [0, 1], "until": "open"}],
        "lost": [{"at": "step", "step": 3, "ranks": [0, 1], "until": "go"}, {"at": "save", "step": 4, "ranks": [1], "until": "open"}],
    }

    def __init__(self, root: Path):
        self.root, self.data, self.hf = root, root / "data", root / "hf_start"
        from cj2.data.job import build_mixture

        tiny_hf_checkpoint(self.hf, "model=tiny")
        build_mixture(self.config("build"), show_progress=False)
        for name, gate in self.GATES.items():
            (root / name / "gate").mkdir(parents=True)
            (root / name / "gate.json").write_text(json.dumps(gate))
        self.jobs = {name: self.submit(name) for name in self.LAYOUTS}
        self._done: dict[str, Run] = {}

    def config(self, name: str):
        return training_config(self.root / name, self.data, self.hf, *self.LAYOUTS.get(name, ()))

    def submit(self, name: str):
        """Submit run ``name`` (again: the rerun of the same command)."""
        from cj2.cluster.slurm import submit

        task = "tests.cluster.tasks:train_gated" if name in self.GATES else "train"
        return submit(task, self.config(name), quiet=True)

    def run(self, name: str) -> Run:
        if name not in self._done:
            self._done[name] = Run(self.root / name, result_of(self.jobs[name], timeout_s=600))
        return self._done[name]

    def cancel_unfinished(self) -> None:
        import subprocess

        ids = [job.job_id for job in self.jobs.values() if not job.done()]
        if ids:
            subprocess.run(["scancel", *ids], check=False)
