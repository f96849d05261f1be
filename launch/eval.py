"""Run or re-score a judge on a benchmark (JudgerBenchV2, JudgeBench, RMB, RewardBench ...).

Example: python launch/eval.py +exp=demo   (see README.md)
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("eval", cfg)


if __name__ == "__main__":
    main()
