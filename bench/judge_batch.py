"""Shared by the training benchmarks: a one-process group and judge-shaped synthetic samples."""

from __future__ import annotations

import os
import socket


def init_single_process_env() -> None:
    """torchrun-style variables for a world of one, on a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))


def judge_rows(count: int, seq_length: int, vocab: int):
    """Samples shaped like judge data: 75% prompt, a learned judgment with a verdict token."""
    import numpy as np

    from cj2.data.packed.tokenize import TokenizedSample

    rng = np.random.default_rng(0)
    samples = []
    for _ in range(count * 3):
        n = int(rng.integers(seq_length // 4, seq_length // 3))
        prompt = int(n * 0.75)
        ids = rng.integers(0, vocab, n).tolist()
        k = n - 4
        samples.append(TokenizedSample(ids, [0] * prompt + [1] * (n - prompt), verdict_index=k, label_id=ids[k], opposite_id=(ids[k] + 1) % vocab))
    return samples
