"""The SLURM jobs of a run: status, logs, cancel; and the whole pipeline in one command.

  python launch/cluster.py status  RUN_DIR
  python launch/cluster.py logs    RUN_DIR [--job ID] [--lines N]
  python launch/cluster.py cancel  RUN_DIR
  python launch/cluster.py pipeline +exp=margin_7b cluster=slurm [--stages sample,curate,build_data,train,eval]
  python launch/cluster.py pipeline +exp=sft_7b loss=none,dpo_noref,temperature,margin seed=1,2

Overrides with several values sweep, as ``--multirun`` does: every point's chain, shared builds once,
each point's judge evaluated on ``compare.sets``, then one comparison table (cj2.cluster.sweep_pipeline).
Rerunning the same command resumes: complete work is skipped, the rest picks up where it stopped.
"""

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="launch/cluster.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("status", "cancel"):
        sub.add_parser(name).add_argument("run_dir")
    logs = sub.add_parser("logs")
    logs.add_argument("run_dir")
    logs.add_argument("--job", default=None, help="one job id (default: every job of the run)")
    logs.add_argument("--lines", type=int, default=40)
    pipe = sub.add_parser("pipeline", help="submit sampling -> curation -> data -> training -> evaluation [-> comparison] with afterok")
    pipe.add_argument("--stages", default="sample,curate,build_data,train,eval,compare")
    pipe.add_argument("--wait", action="store_true", help="block until the last stage ends; exit 1 unless every job completed")
    pipe.add_argument("overrides", nargs="*", help="Hydra overrides, as for launch/train.py")
    args = parser.parse_args(argv)

    if args.command == "pipeline":
        return pipeline(args.overrides, args.stages.split(","), args.wait)
    from cj2.cluster import status

    if args.command == "status":
        print(status.format_status(status.status(args.run_dir)))
    elif args.command == "logs":
        print(status.logs(args.run_dir, job_id=args.job, lines=args.lines))
    else:
        cancelled = status.cancel(args.run_dir)
        print(f"cancelled {len(cancelled)} job(s): {' '.join(cancelled)}" if cancelled else "nothing to cancel")
    return 0


def pipeline(overrides, stages, wait: bool = False) -> int:
    from cj2.cluster.pipeline import STAGES, submit_pipeline
    from cj2.cluster.sweep_pipeline import split_sweep, submit_sweep
    from cj2.config import ConfigError, compose, finalize

    known = dict(STAGES)
    unknown = [s for s in stages if s not in known]
    if unknown:
        print(f"unknown stage(s) {unknown}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    fixed, _, swept = split_sweep(overrides)
    cfg = finalize(compose(fixed))
    if cfg.cluster.kind != "slurm":
        print("the pipeline submits SLURM jobs: add cluster=slurm (or cluster=slurm_local)", file=sys.stderr)
        return 2
    chosen = [(s, known[s]) for s in stages]
    try:
        jobs = submit_sweep(overrides, chosen) if swept else submit_pipeline(cfg, chosen)
    except ConfigError as e:
        print(f"cj2 pipeline: nothing submitted: {e}", file=sys.stderr)
        return 2
    return wait_for(jobs, cfg.run_dir) if wait else 0


def wait_for(jobs: dict, run_dir: str) -> int:
    """Block until the last submitted stage ends (a failed stage cancels the ones after it), then print every job's state.
    Exit 0 only when every job of the last stage returned its result."""
    from cj2.cluster import status

    last = next((js for js in reversed(list(jobs.values())) if js), [])
    if last:
        print(f"waiting for the last stage ({len(last)} job(s)); progress: python launch/cluster.py status {run_dir}", flush=True)
    failed = []
    for job in last:
        try:
            job.result()  # the job's own outcome: its state in sacct can lag behind its result file
        except Exception as e:  # submitit: failed, cancelled (never ran) or no result
            failed.append(f"job {job.job_id}: {str(e).splitlines()[0]}")
    print(status.format_status(status.status(run_dir)))
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
