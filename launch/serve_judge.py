"""Serve a judge over HTTP: verdicts with probabilities, and OpenRLHF's remote reward model.

Example: python launch/serve_judge.py judge=outputs/demo/hf port=8000   (docs/use-your-judge.md)
"""

import hydra
from omegaconf import DictConfig

import cj2.judge.config  # noqa: F401  (registers the service's schema)


@hydra.main(version_base=None, config_path="../conf", config_name="serve_judge")
def main(cfg: DictConfig) -> None:
    from cj2.judge.serve import serve

    serve(cfg)


if __name__ == "__main__":
    main()
