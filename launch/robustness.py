"""Prompt robustness (paper section 5.4): a benchmark judged with and without style requirements.

Example: python launch/robustness.py eval=rewardbench eval.data_file=F eval.engine=openai eval.base_url=URL eval.model=NAME
(docs/evaluation.md, "Prompt robustness")
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("cj2.eval.studies.robustness:run", cfg)


if __name__ == "__main__":
    main()
