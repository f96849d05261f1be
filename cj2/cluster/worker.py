"""One local rank: ``python -m cj2.cluster.worker TASK CONFIG_YAML RESULT_PATH``.

Started by :func:`cj2.cluster.local.run_processes` with torchrun-style variables; runs the task
on the frozen config and, on rank 0, pickles the task's return value to RESULT_PATH.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    task, config_path, result_path = argv
    import cloudpickle

    from cj2.cluster import frozen
    from cj2.cluster.tasks import task_function

    result = task_function(task)(frozen.load(Path(config_path)))
    if int(os.environ.get("RANK", "0")) == 0:
        from cj2.utils.atomic import atomic_write_bytes

        atomic_write_bytes(result_path, cloudpickle.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
