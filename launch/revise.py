"""Critique-guided revision (paper Table 5): judge critiques, policy revises, answers scored before and after.

Example: python launch/revise.py eval.data_file=tasks.jsonl eval.policy_base_url=URL eval.policy_model=NAME eval.engine=openai eval.base_url=URL eval.model=JUDGE
(docs/evaluation.md, "Critique-guided revision")
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("cj2.eval.studies.revision:run", cfg)


if __name__ == "__main__":
    main()
