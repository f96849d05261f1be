"""Teacher curation: the teacher re-judges, samples and synthesizes the mixture's teacher-role
components (rejudge / rft / synthesize) into rows the data build reads.

Example: python launch/curate.py data=cj2 sample.engine=openai sample.base_url=http://HOST:8000/v1
         (cluster=slurm curate.num_shards=16: a SLURM array; see docs/data.md)
"""

import hydra
from omegaconf import DictConfig

import cj2.config  # noqa: F401  (registers the typed schema)


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from cj2.cluster.launch import launch

    launch("curate", cfg)


if __name__ == "__main__":
    main()
