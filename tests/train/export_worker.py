"""torchrun worker (2 ranks): the demo recipe with the distributed optimizer at TP2 x DP1 or TP1 x DP2,
or the export of a run's newest checkpoint (at TP2, the checkpoint's layout).

    export_worker.py tp2|tp1 RUN_DIR DATA_DIR [KILL_AFTER_STEP]
    export_worker.py export RUN_DIR DATA_DIR EXPORT_DIR
"""

import sys

import cj2.train.export as export
import cj2.train.job as job
from tests.train.resume_worker import config, die_after

LAYOUTS = {
    "tp2": ["parallel.use_distributed_optimizer=true"],
    "tp1": ["parallel.use_distributed_optimizer=true", "parallel.tp=1", "parallel.dp=2"],
}


def main():
    mode, run_dir, data_dir = sys.argv[1:4]
    if mode == "export":
        export.run(config(run_dir, data_dir, *LAYOUTS["tp2"], f"train.portable_export_dir={sys.argv[4]}"))
        return
    if len(sys.argv) > 4:
        die_after(int(sys.argv[4]))
    job.train(config(run_dir, data_dir, *LAYOUTS[mode]))


if __name__ == "__main__":
    main()
