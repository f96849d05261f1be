"""Re-save a run's newest checkpoint so that training can resume it at another TP/PP layout.

Example: python launch/export_checkpoint.py +exp=margin_7b train.portable_export_dir=outputs/margin_7b_portable
(run with the checkpoint's own options; then train with run_dir=outputs/margin_7b_portable at any layout)
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("export_checkpoint", cfg)


if __name__ == "__main__":
    main()
