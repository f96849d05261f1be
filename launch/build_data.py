"""Build a training mixture: load, curate, dedup, template, tokenize, pack.

Example: python launch/build_data.py +exp=demo   (see README.md)
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("build_data", cfg)


if __name__ == "__main__":
    main()
