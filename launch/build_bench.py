"""Build a JudgerBench-style benchmark from your own queries, labelled by a Mixture of Judges.

Example: python launch/build_bench.py bench.queries=queries.jsonl bench.base_model=BASE \
    bench.policies=[P1,P2] bench.judges=[J1,J2,J3] bench.output_dir=DIR   (see docs/benchmark.md)
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("build_bench", cfg)


if __name__ == "__main__":
    main()
