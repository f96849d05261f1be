"""Two ranks that see a checkpoint's files differently (NFS attribute caching) must still agree.

    torchrun --nproc_per_node 2 checkpoint_agreement_worker.py DIR   (DIR/rank<N>.json per rank)

Rank 0 writes a two-file checkpoint with its manifest; both ranks check it whole. Then rank 1 alone
sees one file as missing (``Path.is_file`` patched in its process, as a stale attribute cache
would answer) and both ranks check it again. The process group times out after 20 s, so a rank
left waiting in a collective fails the run instead of hanging it.
"""

import datetime
import hashlib
import json
import sys
from pathlib import Path

import torch.distributed as dist

from cj2.train.checkpoint import MANIFEST, problem_with


def main():
    ckpt = Path(sys.argv[1]) / "step_00000001"
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=20))
    rank = dist.get_rank()
    if rank == 0:
        ckpt.mkdir(parents=True)
        files = {"__0_0.distcp": b"rank zero's shard", "__1_0.distcp": b"rank one's shard"}
        for name, data in files.items():
            (ckpt / name).write_bytes(data)
        manifest = {"step": 1, "files": {n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in files.items()}}
        (ckpt / MANIFEST).write_text(json.dumps(manifest))
    dist.barrier()
    whole = problem_with(ckpt)
    if rank == 1:
        stale, is_file = ckpt / "__1_0.distcp", Path.is_file
        Path.is_file = lambda self: self != stale and is_file(self)
    verdict = problem_with(ckpt)
    # A file per rank: two ranks printing at once can interleave their lines on the launcher's stdout.
    (Path(sys.argv[1]) / f"rank{rank}.json").write_text(json.dumps({"rank": rank, "whole": whole, "verdict": verdict}))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
