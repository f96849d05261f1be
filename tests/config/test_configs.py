"""Every config in conf/ composes and validates; misconfigurations fail with the right message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from cj2.config import CONF_DIR, ConfigError, compose, validate

GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir() and p.name != "exp")
OPTIONS = [(g, f.stem) for g in GROUPS for f in sorted((CONF_DIR / g).glob("*.yaml"))]
PRESETS = sorted(f.stem for f in (CONF_DIR / "exp").glob("*.yaml"))

# Options that only make sense together with others (a GPU layout needs GPUs asked for).
PARTNERS = {
    ("parallel", "tp2"): ["model=qwen2.5-7b", "cluster=slurm"],
    ("parallel", "tp4"): ["model=qwen2.5-14b", "cluster=slurm", "parallel.dp=2"],
    ("parallel", "tp8_pp2"): ["model=qwen2.5-32b", "cluster=slurm", "cluster.nodes=2"],
    ("cluster", "slurm"): ["model=qwen2.5-7b", "parallel=tp2"],
}


def test_tree_is_enumerated():
    assert {"model", "data", "loss", "parallel", "cluster", "tracking"} <= set(GROUPS)
    assert {"demo", "margin_7b", "margin_14b", "margin_32b", "sft_7b", "dpo_7b", "temperature_7b"} <= set(PRESETS)


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes_and_validates(group, option):
    # Real mixtures use real sequence lengths, beyond the tiny model's positions.
    partners = PARTNERS.get((group, option), ["model=qwen2.5-7b"] if group == "data" and option != "demo" else [])
    cfg = compose([f"{group}={option}", *partners])
    validate(cfg)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_and_validates(preset):
    cfg = compose([f"+exp={preset}"])
    validate(cfg)
    assert cfg.run_name == preset


def test_published_shapes():
    cfg = compose(["+exp=margin_32b"])
    assert (cfg.model.num_layers, cfg.model.hidden_size, cfg.model.ffn_hidden_size) == (64, 5120, 27648)
    assert (cfg.model.num_attention_heads, cfg.model.num_query_groups, cfg.model.vocab_size) == (40, 8, 152064)
    assert (cfg.parallel.tp, cfg.parallel.pp, cfg.cluster.nodes, cfg.cluster.gpus_per_node) == (8, 2, 2, 8)


def test_ablation_presets_differ_only_in_loss():
    base = compose(["+exp=margin_7b"])
    for preset, loss in [("sft_7b", "none"), ("dpo_7b", "dpo_noref"), ("temperature_7b", "temperature")]:
        cfg = compose([f"+exp={preset}"])
        assert cfg.loss.name == loss
        assert cfg.model == base.model and cfg.parallel == base.parallel and cfg.data == base.data


# (overrides, the key the message must name, a fragment of the message)
MISCONFIGS = [
    (["+exp=margin_7b", "parallel.tp=8", "parallel.dp=1"], "parallel.tp", "num_query_groups=4"),
    (["+exp=margin_7b", "parallel.tp=3", "parallel.dp=1", "cluster.gpus_per_node=3"], "parallel.tp", "num_attention_heads=28 is not divisible"),
    (["+exp=margin_32b", "parallel.pp=3", "parallel.tp=4", "cluster.nodes=1", "cluster.gpus_per_node=12"], "parallel.pp", "num_layers=64"),
    (["parallel.global_batch_size=10", "parallel.micro_batch_size=4"], "parallel.global_batch_size", "not divisible by micro_batch_size x dp"),
    (["+exp=margin_7b", "cluster.gpus_per_node=4"], "cluster.gpus_per_node", "tp x pp x dp"),
    (["+exp=margin_32b", "cluster.nodes=1"], "cluster.gpus_per_node", "= 8 GPUs, but"),
    (["parallel.dp=2"], "cluster.nproc", "1 local CPU process(es)"),
    (["data.seq_length=8192"], "data.seq_length", "exceeds tiny's limit"),
    (["loss.reduction=median"], "loss.reduction", "not one of mean, sum"),
    (["loss.combine=multiply"], "loss.combine", "not one of add, replace"),
    (["loss=margin", "loss.gamma=0"], "loss.gamma", "must be > 0"),
    (["loss=temperature", "loss.tau=-1"], "loss.tau", "must be > 0"),
    (["loss=dpo_noref", "loss.beta=0"], "loss.beta", "must be > 0"),
    (["loss=none", "loss.pg_weight=1"], "loss.pg_weight", "no policy-gradient term"),
    (["loss.name=hinge"], "loss.name", "not one of none, dpo_noref"),
    (["loss.top_k=0"], "loss.top_k", "must be in [1, vocab_size)"),
    (["parallel.sp=true"], "parallel.sp", "needs tp > 1"),
    (["train.warmup_fraction=1.5"], "train.warmup_fraction", "must be in [0, 1)"),
    (["train.precision=fp8"], "train.precision", "not one of bf16, fp32"),
    (["train.lr=0"], "train.lr", "must be > 0"),
    (["model.family=gpt2"], "model.family", "not one of qwen2, llama"),
    (["model.family=llama"], "model.qkv_bias", "no QKV bias"),
    (["model.hidden_size=66"], "model.hidden_size", "not divisible by model.num_attention_heads"),
    (["data.components.arithmetic.kind=images"], "data.components.arithmetic.kind", "not one of"),
    (["data=cj2", "model=qwen2.5-7b", "data.components.rft.path=null"], "data.components.rft.path", "no path and no hub_name"),
    (["data.components.arithmetic.weight=-1"], "data.components.arithmetic.weight", "must be >= 0"),
    (["data.swap_positions=sometimes"], "data.swap_positions", "not one of random, both, none"),
    (["sample.engine=llamacpp"], "sample.engine", "unknown engine 'llamacpp'"),
    (["sample.top_p=0"], "sample.top_p", "must be in (0, 1]"),
    (["cluster.kind=kubernetes"], "cluster.kind", "not one of local, slurm"),
    (["+exp=margin_7b", "parallel.tp=1", "parallel.sp=false", "parallel.dp=8", "parallel.use_distributed_optimizer=false"], "parallel", "the planner predicts"),
    (["+exp=margin_7b", "cluster.time_min=1"], "cluster.signal_delay_s", "longer than the job"),
    # The warning signal must leave time for a step and a save (planner estimates; catches a
    # requeue that kills the job mid-save and loses the steps since the last checkpoint).
    (["+exp=margin_32b", "cluster.signal_delay_s=120"], "cluster.signal_delay_s", "a step takes"),
    (["+exp=margin_7b", "cluster.checkpoint_write_gbps=0.2"], "cluster.signal_delay_s", "a checkpoint"),
    (["parallel.recompute=true"], "parallel.recompute", "not one of none, selective, full"),
    (["model.attention=local"], "model.attention", "not one of auto, te, flash_attn, sdpa"),
    (["+exp=margin_7b", "data.components.public_judge.options.judgment_format=cot"], "data.components.public_judge.options.judgment_format", "not one of"),
    # Evaluation sets never train (a component reading a registered benchmark's data is refused,
    # naming the component and the benchmark). Catches: no identity check at validation (these
    # configs validated, and pairwise_public trained on JudgeBench, PandaLM's test set, LLMBar and RMB).
    (["data.components.arithmetic.kind=pairwise", "data.components.arithmetic.path=/d/judgebench/judgebench_gpt-4o.jsonl"], "data.components.arithmetic.path", "component 'arithmetic' reads /d/judgebench/judgebench_gpt-4o.jsonl, evaluation data of benchmark 'judgebench'"),
    (["data.components.arithmetic.kind=pairwise", "data.components.arithmetic.path=/d/RMB_dataset/Pairwise_set"], "data.components.arithmetic.path", "benchmark 'rmb'"),
    (["data.components.arithmetic.kind=pairwise", "data.components.arithmetic.path=/d/pandalm/testset-v1.json"], "data.components.arithmetic.path", "benchmark 'pandalm'"),
    (["data.components.arithmetic.kind=pairwise", "data.components.arithmetic.hub_name=allenai/reward-bench"], "data.components.arithmetic.hub_name", "benchmark 'rewardbench'"),
]


@pytest.mark.parametrize("overrides,key,fragment", MISCONFIGS, ids=[m[1] + ":" + m[2][:24] for m in MISCONFIGS])
def test_misconfiguration_fails_with_a_clear_message(overrides, key, fragment):
    cfg = compose(overrides)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    matching = [p for p in info.value.problems if p.key == key and fragment in p.message]
    assert matching, f"expected a problem on {key!r} mentioning {fragment!r}, got:\n{info.value}"
    assert all(p.fix for p in info.value.problems)


def test_no_data_preset_reads_an_evaluation_set():
    """Catches: a preset (the old pairwise_public) that trains on a registered benchmark's data."""
    from cj2.data.curation.decontaminate import eval_source

    for option in sorted(f.stem for f in (CONF_DIR / "data").glob("*.yaml")):
        for name, comp in compose([f"data={option}"]).data.components.items():
            assert comp.allow_eval_source or eval_source(comp.path, comp.hub_name) is None, f"data={option}: component {name} reads evaluation data"


def test_run_stage_checks_files(tmp_path):
    cfg = compose(["+exp=margin_7b", f"model.hf_path={tmp_path}/nope", f"data.components.rft.path={tmp_path}/missing.jsonl"])
    validate(cfg)  # composing and planning need no files
    with pytest.raises(ConfigError) as info:
        validate(cfg, stage="run")  # training: the model, not the component files (it reads the build)
    assert "model.hf_path" in {p.key for p in info.value.problems}
    with pytest.raises(ConfigError) as info:
        validate(cfg, stage="run", task="build_data")
    assert "data.components.rft.path" in {p.key for p in info.value.problems}


@pytest.mark.parametrize(
    "override,fragment",
    [
        ("model.hiden_size=3", "Key 'hiden_size' not in 'ModelConfig'"),
        ("parallel.tp=two", "Value 'two' of type 'str' could not be converted to Integer"),
        ("loss.gamma=[1]", "could not be converted to Float"),
        ("data.components.arithmetic.wieght=2", "Key 'wieght' not in 'DataComponentConfig'"),
    ],
)
def test_typos_and_wrong_types_fail_at_composition(override, fragment):
    with pytest.raises(ConfigCompositionException) as info:
        compose([override])
    assert fragment in f"{info.value} {info.value.__cause__}"


def run_launcher(*args: str) -> subprocess.CompletedProcess:
    repo = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "launch/train.py", *args], cwd=repo, capture_output=True, text=True, timeout=120)


def test_cfg_job_shows_the_32b_layout_without_heavy_imports():
    proc = run_launcher("+exp=margin_32b", "--cfg", "job")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "name: qwen2.5-32b" in out and "tp: 8" in out and "pp: 2" in out and "nodes: 2" in out


def test_dry_run_prints_the_plan_and_exits(tmp_path):
    proc = run_launcher("+exp=margin_32b", "dry_run=true", f"run_dir={tmp_path}/run")
    assert proc.returncode == 0, proc.stderr
    assert '"layout": "TP8 x PP2 x DP1 + SP"' in proc.stdout and '"world_size": 16' in proc.stdout
    assert not (tmp_path / "run" / "run.json").exists()  # a dry run starts nothing


def test_invalid_launch_exits_with_the_problem_list():
    proc = run_launcher("+exp=margin_7b", "parallel.tp=8", "dry_run=true")
    assert proc.returncode == 2
    assert "parallel.tp:" in proc.stderr and "Traceback" not in proc.stderr


def test_config_path_imports_no_torch():
    code = "import sys, cj2.config, cj2.config.plan, cj2.cluster.launch; from cj2.config import compose, validate; validate(compose(['+exp=margin_32b'])); print('torch' in sys.modules, 'megatron' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_the_checkpoint_export_needs_a_new_run_dir(tmp_path):
    """Catches: an export without a target, or into the run it reads (its checkpoints overwritten)."""
    for overrides, fragment in (([], "needs a run dir"), ([f"run_dir={tmp_path}", f"train.portable_export_dir={tmp_path}"], "is the run being exported")):
        with pytest.raises(ConfigError) as info:
            validate(compose(overrides), task="export_checkpoint")
        assert any(p.key == "train.portable_export_dir" and fragment in p.message for p in info.value.problems)
    with pytest.raises(ConfigError, match="no checkpoints under"):
        validate(compose([f"run_dir={tmp_path / 'run'}", f"train.portable_export_dir={tmp_path / 'new'}"]), stage="run", task="export_checkpoint")
