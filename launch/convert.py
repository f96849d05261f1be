"""Convert checkpoints between Hugging Face and cj2/Megatron layouts.

Example: python launch/convert.py +exp=demo   (see README.md)
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("convert", cfg)


if __name__ == "__main__":
    main()
