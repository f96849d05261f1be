"""Export a trained judge (a Hugging Face checkpoint dir) to GGUF for llama.cpp-style runtimes.

Example: python launch/export_gguf.py src=outputs/margin_7b/hf out_dir=outputs/gguf types=[f16,q8_0]
(docs/use-your-judge.md)
"""

import hydra
from omegaconf import DictConfig

import cj2.models.gguf_config  # noqa: F401  (registers the exporter's schema)


@hydra.main(version_base=None, config_path="../conf", config_name="export_gguf")
def main(cfg: DictConfig) -> None:
    from cj2.models.gguf_config import run

    run(cfg)


if __name__ == "__main__":
    main()
