"""The training recipe (:mod:`cj2.train.job`) and its parts: optimizer, step, checkpoints, metrics."""
