"""Every numeric rule of cj2/config/validate.py at its boundary: the last valid value passes with no
problem at all, the first invalid one is refused under exactly the key that names it.

Catches (mutation survivors of validate.py, each planted): a shard index checked from 1
(``1 <= shard_index``) or with ``0 > shard_index`` (curate and sample), ``min_lr != 0`` (a run
whose min_lr equals lr refused), ``kind > "pairwise"`` for ``kind != "pairwise"`` (rejudge of a
knowledge component accepted), ``gpus_per_node != 0`` for ``> 0`` (a negative GPU count taken
for GPUs), ``family <= "llama"`` (an unknown family also blamed on its QKV bias), constrained
choices kept when they parse (``if parse(...).ok``), the curate counts unchecked (``for key in []``),
and every ``<`` / ``<=`` of a range check flipped at its edge.
"""

from __future__ import annotations

import copy

import pytest
from omegaconf import OmegaConf

from cj2.config import compose
from cj2.config.validate import problems_of

TP2 = {"parallel.tp": 2, "cluster.nproc": 2}
SLURM = {"cluster.kind": "slurm"}
KNOWLEDGE = {"data.components.arithmetic.kind": "knowledge", "data.components.arithmetic.path": "train.jsonl"}
C = "data.components.arithmetic"
MTBENCH = {"sample.template": "mtbench_pair", "sample.verdict_format": "mtbench_pair"}

# (overrides on the default config, the problem keys expected, one per problem: empty for a valid edge)
CASES = [
    ({"model.num_layers": 1}, set()),
    ({"model.num_layers": 0}, {"model.num_layers"}),
    ({"model.hidden_size": 68}, set()),
    ({"model.hidden_size": 66}, {"model.hidden_size"}),
    ({"model.num_query_groups": 4}, set()),
    ({"model.num_query_groups": 3}, {"model.num_query_groups"}),
    ({**TP2}, set()),
    ({**TP2, "model.num_attention_heads": 6, "model.num_query_groups": 3, "model.hidden_size": 72}, {"parallel.tp"}),
    ({**TP2, "model.vocab_size": 151681}, {"model.vocab_size"}),
    ({"parallel.pp": 2, "cluster.nproc": 2}, set()),
    ({"parallel.pp": 2, "cluster.nproc": 2, "model.num_layers": 3}, {"parallel.pp"}),
    ({"model.family": "llama", "model.qkv_bias": False}, set()),
    ({"model.family": "llama", "model.qkv_bias": True}, {"model.qkv_bias"}),
    ({"model.family": "gpt", "model.qkv_bias": True}, {"model.family"}),
    ({"parallel.micro_batch_size": 4}, set()),
    ({"parallel.micro_batch_size": 4, "parallel.global_batch_size": 6}, {"parallel.global_batch_size"}),
    ({**TP2, "parallel.sp": True}, set()),
    ({"parallel.sp": True}, {"parallel.sp"}),
    ({"parallel.dp": 0}, {"parallel.dp"}),
    ({"cluster.nodes": 0}, {"cluster.nodes"}),
    ({"cluster.nproc": 2}, {"cluster.nproc"}),
    ({"cluster.gpus_per_node": 1}, set()),
    ({"cluster.gpus_per_node": 2}, {"cluster.gpus_per_node"}),
    ({**SLURM, "cluster.gpus_per_node": -1}, {"cluster.gpus_per_node"}),
    ({**SLURM}, set()),
    ({**SLURM, "cluster.tasks_per_node": 2}, {"cluster.tasks_per_node", "cluster.nproc"}),
    ({**SLURM, "cluster.tasks_per_node": 0}, {"cluster.tasks_per_node"}),  # counted as 1 task in the layout check
    ({**SLURM, "cluster.mem_gb": 1}, set()),
    ({**SLURM, "cluster.mem_gb": 0}, set()),  # all of each node's memory
    ({**SLURM, "cluster.mem_gb": -1}, {"cluster.mem_gb"}),
    ({**SLURM, "cluster.max_requeues": 0}, set()),
    ({**SLURM, "cluster.max_requeues": -1}, {"cluster.max_requeues"}),
    ({**SLURM, "cluster.time_min": 60, "cluster.signal_delay_s": 3599}, set()),
    ({**SLURM, "cluster.time_min": 60, "cluster.signal_delay_s": 3600}, {"cluster.signal_delay_s"}),
    ({**SLURM, "cluster.signal_delay_s": 0}, set()),
    ({**SLURM, "cluster.signal_delay_s": -1}, {"cluster.signal_delay_s"}),
    ({"loss.pg_weight": 0.0}, set()),
    ({"loss.pg_weight": -0.1}, {"loss.pg_weight"}),
    ({"loss.sft_weight": -0.1}, {"loss.pg_weight"}),
    ({"loss.name": "none", "loss.pg_weight": 0.0}, set()),
    ({"loss.name": "none", "loss.pg_weight": 0.5}, {"loss.pg_weight"}),
    ({"loss.name": "none", "loss.pg_weight": -0.5}, ["loss.pg_weight", "loss.pg_weight"]),  # negative, and not 0
    ({"loss.top_k": 1}, set()),
    ({"loss.top_k": 0}, {"loss.top_k"}),
    ({"loss.top_k": 151679}, set()),
    ({"loss.top_k": 151680}, {"loss.top_k"}),
    ({"loss.gamma": 0.0}, {"loss.gamma"}),
    ({"loss.name": "temperature", "loss.tau": 0.0}, {"loss.tau"}),
    ({"loss.name": "dpo_noref", "loss.beta": 0.0}, {"loss.beta"}),
    ({"train.warmup_fraction": 0.0}, set()),
    ({"train.warmup_fraction": -0.01}, {"train.warmup_fraction"}),
    ({"train.warmup_fraction": 0.99}, set()),
    ({"train.warmup_fraction": 1.0}, {"train.warmup_fraction"}),
    ({"train.min_lr": 0.0}, set()),
    ({"train.min_lr": -1e-9}, {"train.min_lr"}),
    ({"train.lr": 6e-5, "train.min_lr": 6e-5}, set()),
    ({"train.lr": 6e-5, "train.min_lr": 6.1e-5}, {"train.min_lr"}),
    ({"train.max_steps": 1}, set()),
    ({"train.max_steps": 0}, {"train.max_steps"}),
    ({"train.keep_checkpoints": 1}, set()),
    ({"train.keep_checkpoints": 0}, {"train.keep_checkpoints"}),
    ({"data.seq_length": 4096}, set()),
    ({"data.seq_length": 4097}, {"data.seq_length"}),
    ({**TP2, "parallel.sp": True, "data.seq_length": 511}, {"data.seq_length"}),
    ({"data.validation_fraction": 0.0}, set()),
    ({"data.validation_fraction": -0.01}, {"data.validation_fraction"}),
    ({"data.validation_fraction": 0.99}, set()),
    ({"data.validation_fraction": 1.0}, {"data.validation_fraction"}),
    ({"data.max_reject_fraction": 0.0}, set()),
    ({"data.max_reject_fraction": 1.0}, set()),
    ({"data.max_reject_fraction": -0.01}, {"data.max_reject_fraction"}),
    ({"data.max_reject_fraction": 1.01}, {"data.max_reject_fraction"}),
    ({f"{C}.weight": 0.0}, set()),
    ({f"{C}.weight": -1.0}, {f"{C}.weight"}),
    ({f"{C}.num_samples": 0}, set()),
    ({f"{C}.num_samples": -1}, {f"{C}.num_samples"}),
    ({f"{C}.max_reject_fraction": 0.0}, set()),
    ({f"{C}.max_reject_fraction": 1.0}, set()),
    ({f"{C}.max_reject_fraction": -0.01}, {f"{C}.max_reject_fraction"}),
    ({f"{C}.max_reject_fraction": 1.01}, {f"{C}.max_reject_fraction"}),
    ({**KNOWLEDGE}, set()),
    ({**KNOWLEDGE, f"{C}.role": "synthesize"}, set()),
    ({**KNOWLEDGE, f"{C}.role": "rejudge"}, {f"{C}.role"}),
    ({**KNOWLEDGE, f"{C}.kind": "pairwise", f"{C}.role": "rejudge"}, set()),
    ({**KNOWLEDGE, f"{C}.kind": "pairwise", f"{C}.role": "synthesize"}, {f"{C}.role"}),
    ({**KNOWLEDGE, f"{C}.kind": "pointwise", f"{C}.role": "rft"}, {f"{C}.role"}),
    ({"sample.temperature": 0.0}, set()),
    ({"sample.temperature": -0.1}, {"sample.temperature"}),
    ({"sample.top_p": 1.0}, set()),
    ({"sample.top_p": 1.01}, {"sample.top_p"}),
    ({"sample.top_p": 0.0}, {"sample.top_p"}),
    ({"sample.accept_cap": 0}, set()),
    ({"sample.accept_cap": -1}, {"sample.accept_cap"}),
    ({"sample.max_retries": 0}, set()),
    ({"sample.max_retries": -1}, {"sample.max_retries"}),
    ({"sample.engine": "openai", "sample.base_url": "http://127.0.0.1:8000/v1"}, set()),
    ({"sample.engine": "openai"}, {"sample.base_url"}),
    ({**MTBENCH, "sample.choices": ["[[A]]", "[[B]]"]}, set()),
    ({**MTBENCH, "sample.choices": ["[[A]]", "A is better"]}, {"sample.choices"}),
    ({f"{C}.share": 0.99, f"{C}.num_samples": None}, set()),
    ({f"{C}.share": 0.5}, {f"{C}.share"}),  # the demo component sets num_samples: one or the other
    ({f"{C}.share": 1.0, f"{C}.num_samples": None}, {f"{C}.share", "data.components"}),
    ({f"{C}.share": 0.0, f"{C}.num_samples": None}, {f"{C}.share"}),
    ({"sample.n_first": 1}, set()),
    ({"sample.n_first": 0}, {"sample.n_first"}),
    ({"sample.near_duplicate": 1.0}, set()),
    ({"sample.near_duplicate": 0.0}, {"sample.near_duplicate"}),
    ({"sample.context_length": 2049}, set()),
    ({"sample.context_length": 2048}, {"sample.context_length"}),
    ({"curate.template_share": 1.0}, set()),
    ({"curate.template_share": 1.01}, {"curate.template_share"}),
    ({"curate.num_shards": 0}, {"curate.num_shards"}),
    ({"curate.flush_every": 0}, {"curate.flush_every"}),
]
for stage in ("sample", "curate"):
    CASES += [
        ({f"{stage}.num_shards": 2, f"{stage}.shard_index": 0}, set()),
        ({f"{stage}.num_shards": 2, f"{stage}.shard_index": 1}, set()),
        ({f"{stage}.num_shards": 2, f"{stage}.shard_index": 2}, {f"{stage}.shard_index"}),
        ({f"{stage}.num_shards": 2, f"{stage}.shard_index": -1}, {f"{stage}.shard_index"}),
    ]


@pytest.fixture(scope="module")
def default_cfg():
    cfg = compose([])
    assert problems_of(cfg) == []  # every case changes only what it names
    return cfg


@pytest.mark.parametrize(("overrides", "expected"), CASES, ids=[",".join(f"{k}={v}" for k, v in o.items()) for o, _ in CASES])
def test_each_rule_at_its_edge(default_cfg, overrides, expected):
    cfg = copy.deepcopy(default_cfg)
    for key, value in overrides.items():
        OmegaConf.update(cfg, key, value, merge=False)
    found = problems_of(cfg)
    assert sorted(p.key for p in found) == sorted(expected), "\n".join(map(str, found))


def test_curation_refuses_a_mixture_without_a_teacher_component(default_cfg):
    """Catches (check_curate): ``if not not teacher_components(cfg)`` (the demo mixture accepted for
    curation, a rejudge mixture refused)."""
    assert "data.components" in {p.key for p in problems_of(default_cfg, stage="run", task="curate")}
    cfg = copy.deepcopy(default_cfg)
    for key, value in {f"{C}.kind": "pairwise", f"{C}.role": "rejudge", f"{C}.path": "train.jsonl"}.items():
        OmegaConf.update(cfg, key, value, merge=False)
    assert "data.components" not in {p.key for p in problems_of(cfg, stage="run", task="curate")}


def test_a_gpu_count_that_the_layout_does_not_use_names_the_dp_that_would():
    """Catches: ``asked ^ (tp * pp) == 0`` for ``asked % (tp * pp) == 0`` in the fix (4 GPUs at
    tp x pp = 1: parallel.dp=4, not '?')."""
    found = problems_of(compose(["cluster.gpus_per_node=4"]))
    assert [(p.key, p.fix) for p in found] == [("cluster.gpus_per_node", "request exactly 1 GPUs or change parallel.dp to 4")]


@pytest.mark.parametrize(("overrides", "key", "text"), [
    (["cluster.kind=slurm", "cluster.tasks_per_node=2"], "cluster.tasks_per_node", "nproc=1 (CPU ranks per node)"),
    (["cluster.kind=slurm", "cluster.gpus_per_node=1", "cluster.tasks_per_node=2"], "cluster.tasks_per_node", "gpus_per_node=1 (one task per GPU)"),
])
def test_a_problem_names_what_it_compares(overrides, key, text):
    """Catches: the GPU / CPU wording of a tasks-per-node problem swapped (``gpus_per_node <= 0``)."""
    assert any(p.key == key and text in p.message for p in problems_of(compose(overrides))), problems_of(compose(overrides))


@pytest.mark.parametrize(("overrides", "key", "fix"), [
    (["cluster.kind=slurm", "cluster.nodes=2", "cluster.tasks_per_node=1", "parallel.dp=4", "cluster.nproc=4"], "cluster.nproc", "set cluster.nproc=2"),
    (["parallel.tp=2", "parallel.pp=2", "cluster.gpus_per_node=6"], "cluster.gpus_per_node", "request exactly 4 GPUs or change parallel.dp to ?"),
    (["parallel.tp=2", "parallel.pp=3", "model.num_layers=6", "cluster.gpus_per_node=12"], "cluster.gpus_per_node", "request exactly 6 GPUs or change parallel.dp to 2"),
])
def test_the_fix_computes_the_value_to_set(overrides, key, fix):
    """Catches, in the value a fix names: ``not world % nodes == 0`` and ``world / nodes`` (``2.0``)
    for the per-node process count of a CPU job; ``asked % (tp // pp)`` (6 GPUs at tp x pp = 4 hold
    no whole dp: the mutant says 1), ``asked // (tp | pp)`` and ``asked // (tp ** pp)`` (12 GPUs at
    tp 2 x pp 3: dp=2, not 4 or 1)."""
    assert [p.fix for p in problems_of(compose(overrides)) if p.key == key] == [fix]


def test_the_signal_lead_it_asks_for_is_the_smallest_that_passes():
    """Catches (check_preemption_lead): ``+ 1`` -> ``>> 1`` and ``+ MARGIN`` -> ``/ MARGIN`` in the
    lead the fix names: the value it asks for must pass, one second less must not."""
    lead = [p for p in problems_of(compose(["+exp=margin_7b", "cluster.signal_delay_s=25"])) if p.key == "cluster.signal_delay_s"]
    need = int(lead[0].fix.split(">=")[1].split()[0])
    assert problems_of(compose(["+exp=margin_7b", f"cluster.signal_delay_s={need}"])) == []
    assert [p.key for p in problems_of(compose(["+exp=margin_7b", f"cluster.signal_delay_s={need - 1}"]))] == ["cluster.signal_delay_s"]


def test_online_tracking_alone_needs_credentials(default_cfg, monkeypatch, tmp_path):
    """Catches (check_tracking): ``mode < "online"`` (disabled tracking asking for a key) and
    ``mode is not "online"`` (offline asking for one)."""
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    cfg = copy.deepcopy(default_cfg)
    for mode, refused in (("offline", False), ("disabled", False), ("online", True)):
        OmegaConf.update(cfg, "tracking.mode", mode[:1] + mode[1:], merge=False)  # built at run time, as one read from YAML
        assert ("tracking.mode" in {p.key for p in problems_of(cfg, stage="run", task="train")}) is refused, mode
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert "tracking.mode" not in {p.key for p in problems_of(cfg, stage="run", task="train")}


def test_decontamination_sources_must_exist_when_the_build_reads_them(default_cfg, tmp_path):
    """Catches: ``if os.path.exists(path)`` for ``if not ...`` (an existing evaluation file refused,
    a missing one accepted)."""
    (tmp_path / "eval.jsonl").write_text("{}\n")
    cfg = copy.deepcopy(default_cfg)
    for path, refused in ((tmp_path / "eval.jsonl", False), (tmp_path / "missing.jsonl", True)):
        OmegaConf.update(cfg, "data.decontaminate_against", [str(path)], merge=False)
        assert ("data.decontaminate_against" in {p.key for p in problems_of(cfg, stage="run", task="build_data")}) is refused, path
