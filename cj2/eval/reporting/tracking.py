"""W&B logging of an evaluation, when ``tracking.mode`` is online or offline."""

from __future__ import annotations

from cj2.eval.core.result import EvalResult


def log_result(cfg, result: EvalResult) -> None:
    if cfg.tracking.mode == "disabled":
        return
    import wandb
    from omegaconf import OmegaConf

    run = wandb.init(
        mode=cfg.tracking.mode,
        project=cfg.tracking.project,
        entity=cfg.tracking.entity,
        group=cfg.tracking.group,
        tags=list(cfg.tracking.tags),
        name=f"{cfg.run_name}-eval-{result.benchmark}",
        dir=str(cfg.run_dir),
        config=OmegaConf.to_container(cfg, resolve=True),
        job_type="eval",
    )
    try:
        prefix = f"eval/{result.benchmark}"
        run.log({f"{prefix}/{result.headline_name}": result.headline, f"{prefix}/unparsed": result.unparsed, **{f"{prefix}/{name}": score for name, score in result.group_scores.items()}})
        columns = list(result.rows[0]) if result.rows else []
        run.log({f"{prefix}/table": wandb.Table(columns=columns, data=[[row.get(c) for c in columns] for row in result.rows])})
    finally:
        run.finish()
