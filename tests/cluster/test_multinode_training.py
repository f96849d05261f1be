"""Training across the two namespace nodes with a real rendezvous (gloo over the private link):
DP2 and PP2 end where one process ends; the run record names both hosts and their interfaces; a
preempted 2-node job and one that lost a node end bitwise where the uninterrupted DP2 run ends.

Every run starts from the same HF weights and data; all are submitted at once (tests/cluster/multinode.py).
"""

from __future__ import annotations

import json
import subprocess

import pytest
import torch

from cj2.cluster import status
from cj2.train.checkpoint import complete_checkpoints
from tests.cluster.conftest import start_cluster
from tests.cluster.helpers import result_of, wait_for_accounting, wait_until
from tests.cluster.multinode import TIMEOUT_S, Run, Runs

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


@pytest.fixture(scope="module")
def runs(slurm_nodes, tmp_path_factory, repo_root) -> Runs:
    from submitit.slurm.slurm import SlurmJob

    with pytest.MonkeyPatch.context() as mp:  # what the `slurm` fixture sets, for the module
        mp.setattr(SlurmJob, "_results_timeout_s", 1)
        mp.setenv("PYTHONPATH", str(repo_root))
        mp.chdir(repo_root)
        runs = Runs(tmp_path_factory.mktemp("multinode"))
        try:
            yield runs
        finally:
            runs.cancel_unfinished()


def assert_trains_like_one_process(got, reference):
    for part in ("loss", "sft", "pg"):
        assert got.summary["final"][part] == pytest.approx(reference.summary["final"][part], rel=1e-6, abs=1e-6), part
    mine, theirs = got.weights(), reference.weights()
    assert mine.keys() == theirs.keys() and mine
    for name in theirs:
        torch.testing.assert_close(mine[name], theirs[name], rtol=0, atol=1e-6, msg=lambda m, n=name: f"{n}: {m}")


def assert_bitwise_equal(got: Run, expected: Run):
    assert got.summary["final"] == expected.summary["final"] and got.summary["tokens"] == expected.summary["tokens"]
    mine, theirs = got.weights(), expected.weights()
    assert mine.keys() == theirs.keys() and mine
    for name in theirs:
        assert mine[name].equal(theirs[name]), f"{name} differs (max {(mine[name] - theirs[name]).abs().max()})"


def test_dp2_across_two_nodes_trains_like_one_process(runs):
    """Catches: a data-parallel rank on the second node reading the first node's rows (the loss
    differs), and gradients not all-reduced across the nodes (the weights differ)."""
    assert runs.run("dp2").summary["steps"] == runs.run("one").summary["steps"] == 4
    assert_trains_like_one_process(runs.run("dp2"), runs.run("one"))


def test_pp2_across_two_nodes_trains_like_one_process(runs):
    """Stage-to-stage activations and gradients cross the link. Catches: the tied embedding's
    gradient not all-reduced between the first and the last stage (on the other node)."""
    assert_trains_like_one_process(runs.run("pp2"), runs.run("one"))


def test_the_run_record_names_both_hosts_and_each_ranks_interface(runs, slurm_nodes):
    """Catches: the master taken from the local hostname (each node its own master: no run), the
    interface of the kernel's route to a local address taken as is (``lo`` on the master's node:
    the other node cannot reach it), and a configured interface ignored."""
    dp2, pp2 = runs.run("dp2").attempts()[-1], runs.run("pp2").attempts()[-1]
    assert dp2["hosts"] == pp2["hosts"] == slurm_nodes
    assert [(r["rank"], r["host"]) for r in dp2["ranks"]] == [(0, slurm_nodes[0]), (1, slurm_nodes[1])]
    for rank in dp2["ranks"]:
        assert (rank["GLOO_SOCKET_IFNAME"], rank["NCCL_SOCKET_IFNAME"], rank["source"]) == ("eth0", "eth0", f"route to {slurm_nodes[0]}")
    assert {(r["GLOO_SOCKET_IFNAME"], r["source"]) for r in pp2["ranks"]} == {("eth0", "config")}
    one = runs.run("one").attempts()[-1]
    assert one["hosts"] == [one["host"]] and one["ranks"][0]["GLOO_SOCKET_IFNAME"] == "lo"


def test_usr2_preempts_a_two_node_job_that_resumes_bitwise_in_the_same_wandb_run(runs, slurm_nodes):
    """SIGUSR2 on the running 2-node job (both ranks held after step 3): both nodes write one
    checkpoint together at step 3, the job requeues itself, resumes there, and ends bitwise where
    the uninterrupted DP2 run ends, in one W&B run (real offline run files). Catches: the ranks not
    agreeing on the step to stop (the all-reduced flag: a hang), the checkpoint written by one node
    only, a resume from step 2 or 0, and a fresh W&B run id on the requeued attempt."""
    job, run_dir = runs.jobs["preempted"], runs.root / "preempted"
    wait_until(lambda: all((run_dir / "gate" / f"rank{r}.step3").exists() for r in (0, 1)), "both ranks to finish step 3", timeout_s=600)
    subprocess.run(["scancel", "--signal=USR2", job.job_id], check=True)
    run = runs.run("preempted")

    assert_bitwise_equal(run, runs.run("dp2"))
    attempts = run.attempts()
    assert [(a["slurm_job_id"], a["hosts"]) for a in attempts] == [(job.job_id, slurm_nodes)] * 2
    log = (run_dir / "slurm" / f"{job.job_id}_0_log.out").read_text()
    assert "checkpoint saved at step 3" in log and "resumed from step 3" in log
    shards = json.loads((run_dir / "checkpoints" / "step_00000003" / "cj2_manifest.json").read_text())["files"]
    assert {name.split("_")[2] for name in shards if name.endswith(".distcp")} == {"0", "1"}  # __<rank>_<n>.distcp
    run_id = (run_dir / "wandb_id").read_text().strip()
    assert run.summary["wandb_run_id"] == run_id
    offline = sorted((run_dir / "wandb").glob("offline-run-*"))
    assert len(offline) == 2 and all((d / f"run-{run_id}.wandb").is_file() for d in offline)


def test_a_node_lost_mid_run_fails_naming_it_and_the_rerun_resumes_bitwise(runs, slurm_nodes, repo_root):
    """Node 2 is lost (link cut, its processes and slurmd killed) while the job starts checkpoint 4:
    rank 0 gives up after the collective timeout, the job fails naming the node; with the node back,
    rerunning the same command resumes from checkpoint 2 (the newest whole one; 4 was never
    completed) and ends bitwise where the uninterrupted DP2 run ends. Catches: a survivor waiting
    past the collective timeout (the timeout not passed to the process group), a failure that does
    not name the node, and a checkpoint renamed complete before every rank wrote its part."""
    for name in ("one", "dp2", "pp2", "preempted"):
        runs.run(name)
        wait_for_accounting(runs.root / name)  # ended: nothing else may run on the node about to go
    job, run_dir, lost = runs.jobs["lost"], runs.root / "lost", slurm_nodes[1]
    gate = run_dir / "gate"
    wait_until(lambda: all((gate / f"rank{r}.step3").exists() for r in (0, 1)), "both ranks to finish step 3", timeout_s=600)
    (gate / "go").touch()
    # Rank 0 now waits for rank 1 in checkpoint 4's first collective: lose the node at once.
    wait_until(lambda: (gate / "rank1.save4").exists(), "rank 1 to start checkpoint 4", timeout_s=TIMEOUT_S)
    subprocess.run(["bash", str(repo_root / "slurm" / "fail-node.sh"), lost], check=True, capture_output=True)
    rank0_err = run_dir / "slurm" / f"{job.job_id}_0_log.err"
    wait_until(lambda: "NodeLostError" in rank0_err.read_text(), "rank 0 to fail", timeout_s=TIMEOUT_S + 120)
    start_cluster(repo_root)  # the node comes back (link up, slurmd started)
    assert [row["state"] for row in wait_for_accounting(run_dir)] == ["FAILED"]
    # What `launch/cluster.py logs` shows (submitit's result() would wait for rank 1's result, never written).
    logs = status.logs(run_dir)
    assert f"NodeLostError: lost node {lost} (rank 1: no heartbeat for " in logs
    assert f"Timed out waiting {TIMEOUT_S * 1000}ms" in logs  # what ended rank 0's wait
    assert [step for step, _ in complete_checkpoints(run_dir / "checkpoints")] == [2]

    (gate / "open").touch()
    rerun = runs.submit("lost")
    resumed = Run(run_dir, result_of(rerun, timeout_s=600))
    assert "resumed from step 2" in (run_dir / "slurm" / f"{rerun.job_id}_0_log.out").read_text()
    assert_bitwise_equal(resumed, runs.run("dp2"))
