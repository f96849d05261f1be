"""The SLURM jobs of a run: status, logs, cancel; and the whole pipeline in one command.

  python launch/cluster.py status  RUN_DIR
  python launch/cluster.py logs    RUN_DIR [--job ID] [--lines N]
  python launch/cluster.py cancel  RUN_DIR
  python launch/cluster.py pipeline +exp=margin_7b cluster=slurm [--stages sample,curate,build_data,train,eval]
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
    pipe = sub.add_parser("pipeline", help="submit sampling -> curation -> data -> training -> evaluation with afterok")
    pipe.add_argument("--stages", default="sample,curate,build_data,train,eval")
    pipe.add_argument("overrides", nargs="*", help="Hydra overrides, as for launch/train.py")
    args = parser.parse_args(argv)

    if args.command == "pipeline":
        return pipeline(args.overrides, args.stages.split(","))
    from cj2.cluster import status

    if args.command == "status":
        print(status.format_status(status.status(args.run_dir)))
    elif args.command == "logs":
        print(status.logs(args.run_dir, job_id=args.job, lines=args.lines))
    else:
        cancelled = status.cancel(args.run_dir)
        print(f"cancelled {len(cancelled)} job(s): {' '.join(cancelled)}" if cancelled else "nothing to cancel")
    return 0


def pipeline(overrides, stages) -> int:
    from cj2.cluster.pipeline import STAGES, submit_pipeline
    from cj2.config import ConfigError, compose, finalize

    known = dict(STAGES)
    unknown = [s for s in stages if s not in known]
    if unknown:
        print(f"unknown stage(s) {unknown}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    cfg = finalize(compose(overrides))
    if cfg.cluster.kind != "slurm":
        print("the pipeline submits SLURM jobs: add cluster=slurm (or cluster=slurm_local)", file=sys.stderr)
        return 2
    try:
        submit_pipeline(cfg, [(s, known[s]) for s in stages])
    except ConfigError as e:
        print(f"cj2 pipeline: nothing submitted: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
