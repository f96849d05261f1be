"""How long submitting a 20-point sweep takes, against baselines, on the local SLURM cluster.

  python bench/submit_sweep.py        (needs the cluster: sudo bash slurm/start-local-slurm.sh)

Each measurement is a fresh Python process (imports included), as a user would run it:
  cj2 array     compose + validate 20 points, submit them as one job array
  cj2 separate  the same 20 points as 20 separate jobs (what a loop over launch() would do)
  hydra multirun  `launch/train.py --multirun` of 20 points, until the array is in the queue
                (Hydra composes each point, cj2's SweepChecks validates each, one sbatch)
  sbatch floor  20 x `sbatch --wrap true` from bash: the scheduler's own cost
Jobs are submitted held (--hold) and cancelled afterwards, so nothing runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POINTS = 20
REPO = Path(__file__).resolve().parents[1]

SUBMIT = f"""
import sys, time
t0 = time.perf_counter()
from cj2.config import compose, finalize, validate
from cj2.cluster.slurm import submit, submit_array
root, mode = sys.argv[1], sys.argv[2]
cfgs = []
for i in range({POINTS}):
    cfg = finalize(compose(["cluster=slurm_local", f"run_dir={{root}}/p{{i}}", f"train.lr={{1e-5 * (i + 1)}}", "+cluster.additional.hold=true"]))
    validate(cfg, stage="run", task="train")
    cfgs.append(cfg)
t1 = time.perf_counter()
jobs = submit_array("train", cfgs, quiet=True) if mode == "array" else [submit("train", c, quiet=True) for c in cfgs]
print(t1 - t0, time.perf_counter() - t1, " ".join(sorted({{str(j.job_id).split("_")[0] for j in jobs}})))
"""


def timed(cmd) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{out.stderr[-3000:]}")
    return time.perf_counter() - start, out.stdout


def time_multirun(run_dir: str) -> tuple[float, str]:
    """Seconds until the multirun's array is queued (held), and its id; the run is then cancelled."""
    lrs = ",".join(f"{1e-5 * (i + 1):.5f}" for i in range(POINTS))
    cmd = [sys.executable, "launch/train.py", "--multirun", "cluster=slurm_local", f"run_dir={run_dir}", "+cluster.additional.hold=true", f"train.lr={lrs}"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    array_id = ""
    while not array_id and time.perf_counter() - start < 300:
        queued = subprocess.run(["squeue", "-h", "-r", "-n", "cj2-train", "-o", "%F"], capture_output=True, text=True).stdout.split()
        if len(queued) >= POINTS:
            array_id = queued[0]
        elif proc.poll() is not None:
            raise SystemExit(f"the multirun exited early:\n{proc.stderr.read()[-3000:]}")
        else:
            time.sleep(0.1)
    seconds = time.perf_counter() - start
    subprocess.run(["scancel", array_id], check=False)
    proc.wait(timeout=120)  # it fails once its jobs are cancelled; that is expected here
    return seconds, array_id


def main() -> int:
    if subprocess.run(["scontrol", "ping"], capture_output=True, text=True).returncode != 0:
        print("no SLURM controller answers: start the local cluster first (slurm/start-local-slurm.sh)", file=sys.stderr)
        return 1
    results = {}
    ids: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for mode in ("array", "separate"):
                print(f"submitting {POINTS} points ({mode}) ...", file=sys.stderr)
                seconds, out = timed([sys.executable, "-c", SUBMIT, f"{tmp}/{mode}", mode])
                compose_s, submit_s, *job_ids = out.split()
                ids += job_ids
                results[f"cj2 {mode}"] = (seconds, f"(imports + compose + validate {float(compose_s):.2f} s, submission {float(submit_s):.2f} s)")
            print(f"submitting {POINTS} points (hydra multirun) ...", file=sys.stderr)
            seconds, array_id = time_multirun(f"{tmp}/multirun")
            ids.append(array_id)
            results["hydra multirun"] = (seconds, "(until all points are queued)")
            print(f"submitting {POINTS} x sbatch --wrap true ...", file=sys.stderr)
            script = f"for i in $(seq {POINTS}); do sbatch --parsable --hold -p debug --mem=100M -o /dev/null --wrap true; done"
            seconds, out = timed(["bash", "-c", script])
            ids += out.split()
            results["sbatch floor"] = (seconds, "")
        finally:
            if ids:
                subprocess.run(["scancel", *ids], check=False)
    print(f"load average {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} CPUs")
    for name, (seconds, detail) in results.items():
        print(f"{name:<14} {seconds:6.2f} s for {POINTS} points {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
