"""The paper's loss ablation (Table 4) in miniature: train every loss x seed, score, tabulate.

Example: python launch/mini_table4.py +exp=mini_table4   (docs/mini_ablation.md; make mini-ablation)
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("mini_table4", cfg)


if __name__ == "__main__":
    main()
