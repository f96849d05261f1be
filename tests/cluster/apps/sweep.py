"""A Hydra entry point like launch/*.py whose task is a test function (light and quick)."""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../../../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("tests.cluster.tasks:report_point", cfg)


if __name__ == "__main__":
    main()
