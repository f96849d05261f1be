"""What a training run's result depends on, as one hash.

``summary.json`` records it when a run finishes; the pipeline (cj2.cluster.pipeline) skips a run
whose summary carries the fingerprint of the config it would train, and trains (resumes) any
other. Where the jobs run, how they are tracked and what is evaluated afterwards do not count.
"""

from __future__ import annotations

import hashlib
import json

from omegaconf import OmegaConf

# Sections and keys that do not change the weights a run produces.
NOT_TRAINING = ("cluster", "tracking", "sample", "curate", "eval", "bench", "compare", "run_name", "run_dir", "dry_run")


def fingerprint(cfg) -> str:
    plain = OmegaConf.to_container(cfg, resolve=True)
    kept = {k: v for k, v in plain.items() if k not in NOT_TRAINING}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]
