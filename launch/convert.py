"""Convert checkpoints between Hugging Face and cj2/Megatron layouts.

    python launch/convert.py src=HF_DIR dst=CKPT_DIR [parallel.tp=2 parallel.pp=2]
    python launch/convert.py src=CKPT_DIR dst=HF_DIR

The direction follows from src; see docs/models.md.
"""

import sys

import hydra
from omegaconf import DictConfig, open_dict

import cj2.config  # noqa: F401  (registers the typed schema)
import cj2.models.convert_config  # noqa: F401  (registers the converter's schema)


@hydra.main(version_base=None, config_path="../conf", config_name="convert")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch
    from cj2.models.convert import ConvertError, with_source_model

    try:
        with open_dict(cfg):
            cfg = with_source_model(cfg)
    except (ConvertError, ValueError) as e:
        print(f"cj2 convert: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    launch("convert", cfg)


if __name__ == "__main__":
    main()
