"""The judge service's config (``launch/serve_judge.py``, ``conf/serve_judge.yaml``).

Import-light (dataclasses, omegaconf): registered before Hydra composes the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

SCHEMA_NAME = "cj2_serve_judge_schema"
BACKENDS = ("hf", "openai")
REWARD_MODES = ("pairwise", "pointwise")


@dataclass
class RewardConfig:
    """How ``POST /get_reward`` (OpenRLHF's remote reward model) turns a judgment into a reward."""

    # pairwise: the policy's response against the reference response in OpenRLHF's labels;
    # pointwise: the response's own score (no reference needed).
    mode: str = "pairwise"
    template: str | None = None  # None: the service's template when it is of this mode, else the mode's default
    both_orders: bool = True  # position bias averaged out: the response judged at A and at B
    constrained: bool = False  # decode only the verdict (in-process judges; verdict-only templates like cj2_short)
    unparsed: float = 0.5  # the reward of a judgment without a verdict (counted in extra_logs.judge_parsed)
    # End-of-turn markers a policy's response may end with (stripped before judging).
    end_markers: list[str] = field(default_factory=lambda: ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"])


@dataclass
class ServeJudgeConfig:
    judge: str = MISSING  # backend=hf: an HF checkpoint dir or a .gguf file; backend=openai: the served model name
    backend: str = "hf"  # hf (in process, with verdict probabilities) | openai (any OpenAI-compatible server)
    base_url: str | None = None  # backend=openai: http://host:port/v1
    device: str = "auto"
    dtype: str | None = None  # backend=hf: float32 | bfloat16 | float16; None: the checkpoint's
    host: str = "127.0.0.1"
    port: int = 8000
    template: str = "cj2_cot"  # the default template of its mode; other modes default to cj2_cot / mtbench_single / cj2_critique
    max_tokens: int = 512  # the judge's answer, in tokens
    max_batch: int = 8  # backend=hf: jobs judged together
    batch_wait_ms: float = 5.0  # backend=hf: how long a batch waits for more jobs
    concurrency: int = 16  # backend=openai: requests in flight to the server
    max_pending: int = 256  # judgments admitted at once; a request beyond that gets 503 (retry)
    request_timeout_s: float = 300.0  # default and upper bound of a request's timeout_s
    max_body_bytes: int = 1_048_576  # larger bodies get 413
    max_items: int = 64  # requests per call
    max_prompt_tokens: int = 8192  # backend=hf: longer rendered prompts get 413 (also capped by the context)
    # Defaults of the per-call options (cj2.judge.core.Options).
    both_orders: bool = False
    ties: bool = True
    constrained: bool = False
    reward: RewardConfig = field(default_factory=RewardConfig)
    run_dir: str = "outputs/serve_judge"


def problems(cfg) -> list[str]:
    """Everything wrong with a service config, as ``key: what is wrong -> how to fix it``."""
    from cj2.eval.judging.prompts import get_template

    found = []
    if cfg.backend not in BACKENDS:
        found.append(f"backend: {cfg.backend!r} is not one of {', '.join(BACKENDS)}")
    if cfg.backend == "openai" and not cfg.base_url:
        found.append("base_url: backend=openai needs the server's address -> base_url=http://host:port/v1")
    if cfg.backend == "openai" and (cfg.constrained or cfg.reward.constrained):
        found.append("constrained: needs the judge in process -> backend=hf, or constrained=false reward.constrained=false")
    for key in ("template", "reward.template"):
        name = cfg.template if key == "template" else cfg.reward.template
        if name is None:
            continue
        try:
            template = get_template(name)
        except ValueError as e:
            found.append(f"{key}: {e}")
            continue
        if key == "reward.template" and template.mode != cfg.reward.mode:
            found.append(f"reward.template: {name!r} is a {template.mode} template, reward.mode is {cfg.reward.mode}")
    if cfg.reward.mode not in REWARD_MODES:
        found.append(f"reward.mode: {cfg.reward.mode!r} is not one of {', '.join(REWARD_MODES)}")
    for key in ("max_tokens", "max_batch", "concurrency", "max_pending", "max_body_bytes", "max_items", "max_prompt_tokens"):
        if getattr(cfg, key) < 1:
            found.append(f"{key}: must be >= 1, got {getattr(cfg, key)}")
    if not cfg.request_timeout_s > 0:
        found.append(f"request_timeout_s: must be > 0, got {cfg.request_timeout_s}")
    return found


def register() -> None:
    ConfigStore.instance().store(name=SCHEMA_NAME, node=ServeJudgeConfig)


register()
