"""Semantic checks of a composed config, run before anything starts or is submitted.

The schema (:mod:`cj2.config.schema`) catches unknown keys and wrong types; this module catches
values that are well-typed but cannot work together (a TP size that does not divide the heads,
a batch that does not divide into micro-batches, more GPUs asked for than the layout uses ...).
Every problem is reported at once, each as one line naming the key and the fix.
"""

from __future__ import annotations

import importlib.util
import math
import os
import warnings
from dataclasses import dataclass
from typing import Any

LOSSES = ("none", "dpo_noref", "temperature", "margin")
FAMILIES = ("qwen2", "llama")
COMPONENT_KINDS = ("pairwise", "pointwise", "knowledge", "chat_style", "sft", "synthetic_demo")
COMPONENT_ROLES = ("as_is", "rejudge", "retemplate", "rft", "synthesize")
ATTENTION_BACKENDS = ("auto", "te", "flash_attn", "sdpa")  # cj2.models.attention.BACKENDS
RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message} -> {self.fix}"


class ConfigError(ValueError):
    """A config that cannot run; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid cj2 config ({len(problems)} problem(s)):\n{lines}")


def _choice(problems: list[Problem], key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        problems.append(Problem(key, f"{value!r} is not one of {', '.join(allowed)}", f"set {key}={allowed[0]} (or another of the listed values)"))


def _positive(problems: list[Problem], key: str, value: float) -> None:
    if value is None or value <= 0:
        problems.append(Problem(key, f"must be > 0, got {value}", f"set {key} to a positive value"))


def check_model(cfg, problems: list[Problem]) -> None:
    m, p = cfg.model, cfg.parallel
    _choice(problems, "model.family", m.family, FAMILIES)
    _choice(problems, "model.attention", m.attention, ATTENTION_BACKENDS)
    for key in ("num_layers", "hidden_size", "ffn_hidden_size", "num_attention_heads", "num_query_groups", "vocab_size"):
        _positive(problems, f"model.{key}", getattr(m, key))
    if m.num_attention_heads > 0 and m.hidden_size % m.num_attention_heads:
        problems.append(Problem("model.hidden_size", f"{m.hidden_size} is not divisible by model.num_attention_heads={m.num_attention_heads}", "pick a hidden size that is a multiple of the head count"))
    if m.num_query_groups > 0 and m.num_attention_heads % m.num_query_groups:
        problems.append(Problem("model.num_query_groups", f"{m.num_attention_heads} heads do not split into {m.num_query_groups} KV groups", "num_attention_heads must be a multiple of num_query_groups"))
    if p.tp >= 1:
        if m.num_attention_heads % p.tp:
            problems.append(Problem("parallel.tp", f"model.num_attention_heads={m.num_attention_heads} is not divisible by tp={p.tp}", f"use a tp that divides {m.num_attention_heads}"))
        if m.num_query_groups % p.tp:
            problems.append(Problem("parallel.tp", f"model.num_query_groups={m.num_query_groups} KV heads are not divisible by tp={p.tp} ({m.name} would need KV-head replication)", f"use tp <= {m.num_query_groups} that divides it (e.g. parallel.tp={m.num_query_groups})"))
        if m.vocab_size % p.tp:
            problems.append(Problem("model.vocab_size", f"{m.vocab_size} is not divisible by tp={p.tp}", "pad the vocabulary to a multiple of 128"))
    if p.pp >= 1 and m.num_layers % p.pp:
        problems.append(Problem("parallel.pp", f"model.num_layers={m.num_layers} is not divisible by pp={p.pp}", f"use a pp that divides {m.num_layers}"))
    if m.family == "llama" and m.qkv_bias:
        problems.append(Problem("model.qkv_bias", "llama-family models have no QKV bias", "set model.qkv_bias=false or model.family=qwen2"))
    if m.frozen_layers:
        if not 0 < m.frozen_layers < m.num_layers:
            problems.append(Problem("model.frozen_layers", f"{m.frozen_layers} is outside [0, model.num_layers={m.num_layers})", "freeze fewer layers than the model has (0 trains all of them)"))
        if not m.hf_path:
            problems.append(Problem("model.frozen_layers", "frozen layers are a checkpoint's layers, and model.hf_path is not set", "set model.hf_path to the checkpoint, or model.frozen_layers=0"))
        if p.tp != 1 or p.pp != 1:
            problems.append(Problem("model.frozen_layers", f"the cached hidden states are whole rows for one model shard, and the layout is tp={p.tp} pp={p.pp}", "set parallel.tp=1 parallel.pp=1, or model.frozen_layers=0"))


def check_parallel(cfg, problems: list[Problem]) -> None:
    p, c = cfg.parallel, cfg.cluster
    for key in ("tp", "pp", "dp", "micro_batch_size", "global_batch_size"):
        _positive(problems, f"parallel.{key}", getattr(p, key))
    if min(p.tp, p.pp, p.dp, p.micro_batch_size, p.global_batch_size) <= 0:
        return
    if p.global_batch_samples is not None and p.global_batch_samples <= 0:
        problems.append(Problem("parallel.global_batch_samples", f"must be > 0, got {p.global_batch_samples}", "set parallel.global_batch_samples=512, or null to count packed rows"))
    if p.global_batch_size % (p.micro_batch_size * p.dp):
        problems.append(Problem("parallel.global_batch_size", f"{p.global_batch_size} is not divisible by micro_batch_size x dp = {p.micro_batch_size} x {p.dp}", f"use a multiple of {p.micro_batch_size * p.dp}"))
    if p.sp and p.tp == 1:
        problems.append(Problem("parallel.sp", "sequence parallelism needs tp > 1", "set parallel.sp=false or parallel.tp>1"))
    # Every attention backend (te, flash_attn, sdpa) and both norms (TE's, cj2's TorchNorm)
    # support sequence parallelism, so no combination is refused here.
    _choice(problems, "parallel.recompute", p.recompute, RECOMPUTE)
    world = p.tp * p.pp * p.dp
    _choice(problems, "cluster.kind", c.kind, ("local", "slurm"))
    if c.nodes < 1:
        problems.append(Problem("cluster.nodes", f"must be >= 1, got {c.nodes}", "set cluster.nodes=1 or more"))
        return
    if c.gpus_per_node < 0:
        problems.append(Problem("cluster.gpus_per_node", f"must be >= 0, got {c.gpus_per_node}", "set cluster.gpus_per_node=0 for CPU processes, or the GPUs per node"))
    if c.gpus_per_node > 0:
        asked = c.nodes * c.gpus_per_node
        if asked != world:
            problems.append(Problem("cluster.gpus_per_node", f"{c.nodes} node(s) x {c.gpus_per_node} GPUs = {asked} GPUs, but tp x pp x dp = {p.tp} x {p.pp} x {p.dp} = {world}", f"request exactly {world} GPUs or change parallel.dp to {asked // (p.tp * p.pp) if asked % (p.tp * p.pp) == 0 else '?'}"))
        if c.gpus_per_node % p.tp and p.tp > 1:
            problems.append(Problem("parallel.tp", f"tp={p.tp} does not fit inside a node of {c.gpus_per_node} GPUs", "keep tensor parallelism inside one node"))
    elif c.kind == "local":
        if c.nproc != world:
            problems.append(Problem("cluster.nproc", f"{c.nproc} local CPU process(es), but tp x pp x dp = {world}", f"set cluster.nproc={world}"))
    else:
        if c.nodes * max(c.tasks_per_node, 1) != world:
            problems.append(Problem("cluster.nproc", f"CPU job: {c.nodes} node(s) x {c.tasks_per_node} task(s) per node, but tp x pp x dp = {world}", f"set cluster.nproc={world // c.nodes if world % c.nodes == 0 else world}"))


def check_cluster(cfg, problems: list[Problem]) -> None:
    """What sbatch would reject, or what would make a job unable to requeue, caught before submission."""
    c = cfg.cluster
    if c.kind != "slurm":
        return
    want = c.gpus_per_node if c.gpus_per_node > 0 else c.nproc
    if c.tasks_per_node != want:
        what = f"gpus_per_node={c.gpus_per_node} (one task per GPU)" if c.gpus_per_node > 0 else f"nproc={c.nproc} (CPU ranks per node)"
        problems.append(Problem("cluster.tasks_per_node", f"{c.tasks_per_node} SLURM tasks per node, but {what}", f"set cluster.tasks_per_node={want}"))
    for key in ("time_min", "cpus_per_task", "array_parallelism"):
        _positive(problems, f"cluster.{key}", getattr(c, key))
    if c.mem_gb is not None and c.mem_gb < 0:
        problems.append(Problem("cluster.mem_gb", f"must be >= 0 or null, got {c.mem_gb}", "set cluster.mem_gb=0 for all of each node's memory, or null for the partition's default"))
    if c.max_requeues < 0:
        problems.append(Problem("cluster.max_requeues", f"must be >= 0, got {c.max_requeues}", "set cluster.max_requeues=3"))
    if c.time_min > 0 and c.signal_delay_s >= c.time_min * 60:
        problems.append(Problem("cluster.signal_delay_s", f"{c.signal_delay_s}s warning is longer than the job's {c.time_min} min", "lower cluster.signal_delay_s"))
    if c.signal_delay_s < 0:
        problems.append(Problem("cluster.signal_delay_s", f"must be >= 0, got {c.signal_delay_s}", "set cluster.signal_delay_s=120"))


def check_loss(cfg, problems: list[Problem]) -> None:
    loss = cfg.loss
    _choice(problems, "loss.name", loss.name, LOSSES)
    _choice(problems, "loss.reduction", loss.reduction, ("mean", "sum"))
    _choice(problems, "loss.combine", loss.combine, ("add", "replace"))
    _choice(problems, "loss.average", loss.average, ("token", "sample"))
    if loss.pg_weight < 0 or loss.sft_weight < 0:
        problems.append(Problem("loss.pg_weight", "loss weights must be >= 0", "set loss.pg_weight and loss.sft_weight >= 0"))
    if loss.name == "none" and loss.pg_weight != 0:
        problems.append(Problem("loss.pg_weight", f"loss=none has no policy-gradient term, but pg_weight={loss.pg_weight}", "use loss=margin (or dpo_noref, temperature), or set loss.pg_weight=0"))
    if loss.name == "margin":
        _positive(problems, "loss.gamma", loss.gamma)
        if loss.top_k < 1 or loss.top_k >= cfg.model.vocab_size:
            problems.append(Problem("loss.top_k", f"must be in [1, vocab_size), got {loss.top_k}", "set loss.top_k=10 (the paper's value)"))
    if loss.name == "temperature":
        _positive(problems, "loss.tau", loss.tau)
    if loss.name == "dpo_noref":
        _positive(problems, "loss.beta", loss.beta)


def check_train(cfg, problems: list[Problem]) -> None:
    t = cfg.train
    _positive(problems, "train.lr", t.lr)
    if not 0 <= t.warmup_fraction < 1:
        problems.append(Problem("train.warmup_fraction", f"must be in [0, 1), got {t.warmup_fraction}", "set train.warmup_fraction=0.03"))
    if t.min_lr < 0 or t.min_lr > t.lr:
        problems.append(Problem("train.min_lr", f"must be in [0, train.lr], got {t.min_lr}", "set train.min_lr=0"))
    _choice(problems, "train.precision", t.precision, ("bf16", "fp32"))
    if t.max_steps is not None and t.max_steps < 1:
        problems.append(Problem("train.max_steps", f"must be >= 1 or null, got {t.max_steps}", "set train.max_steps=null to train one pass over the data"))
    _positive(problems, "train.save_interval", t.save_interval)
    _positive(problems, "train.log_interval", t.log_interval)
    _positive(problems, "train.peak_tflops", t.peak_tflops)
    if t.keep_checkpoints < 1:
        problems.append(Problem("train.keep_checkpoints", "at least one checkpoint must be kept to resume", "set train.keep_checkpoints=2"))
    seq = cfg.data.seq_length
    if seq > cfg.model.max_position_embeddings:
        problems.append(Problem("data.seq_length", f"{seq} exceeds {cfg.model.name}'s limit of {cfg.model.max_position_embeddings} positions", f"set data.seq_length<={cfg.model.max_position_embeddings}"))
    if cfg.parallel.sp and seq % cfg.parallel.tp:
        problems.append(Problem("data.seq_length", f"{seq} is not divisible by tp={cfg.parallel.tp}, which sequence parallelism needs", "use a multiple of tp"))


def check_data(cfg, problems: list[Problem], reader: str | None = None, produced: frozenset[str] = frozenset()) -> None:
    """``reader``: the task about to read the mixture's inputs (``build_data`` or ``curate``), whose
    files must exist; ``produced``: absolute paths an earlier pipeline stage writes (not there yet,
    and rightly so). The build reads teacher-role components from the curation stage's output,
    the curation stage reads their sources."""
    from cj2.data.curation.curated import TEACHER_ROLES, component_dir, curation_problem

    d = cfg.data
    if not d.components:
        problems.append(Problem("data.components", "the mixture has no components", "pick a mixture with data=<name> or add data.components.<name>"))
    _choice(problems, "data.swap_positions", d.swap_positions, ("random", "both", "none"))
    if not 0 <= d.validation_fraction < 1:
        problems.append(Problem("data.validation_fraction", f"must be in [0, 1), got {d.validation_fraction}", "set data.validation_fraction=0.01"))
    if not 0 <= d.max_reject_fraction <= 1:
        problems.append(Problem("data.max_reject_fraction", f"must be in [0, 1], got {d.max_reject_fraction}", "set data.max_reject_fraction=0.05"))
    _positive(problems, "data.seq_length", d.seq_length)
    _positive(problems, "data.num_workers", d.num_workers)
    _positive(problems, "data.chunk_size", d.chunk_size)
    from cj2.data.sources.dates import cutoff_date

    try:  # the check the build makes: a real day, so that 2024-02-30 fails here and not days into a build
        cutoff_date(d.date_cutoff)
    except ValueError:
        problems.append(Problem("data.date_cutoff", f"{d.date_cutoff!r} is not a YYYY-MM-DD date", "set data.date_cutoff=2024-10-01"))
    from cj2.data.curation.decontaminate import eval_source

    # The run's own evaluation data is evaluation data too, whatever its file is called.
    run_eval = [(cfg.eval.name, own) for own in (cfg.eval.data_file, cfg.eval.data_dir) if own]
    for name, comp in d.components.items():
        key = f"data.components.{name}"
        _choice(problems, f"{key}.kind", comp.kind, COMPONENT_KINDS)
        _choice(problems, f"{key}.role", comp.role, COMPONENT_ROLES)
        if comp.weight < 0:
            problems.append(Problem(f"{key}.weight", f"must be >= 0, got {comp.weight}", "use a non-negative weight"))
        if comp.num_samples is not None and comp.num_samples < 0:
            problems.append(Problem(f"{key}.num_samples", f"must be >= 0, got {comp.num_samples}", "use a non-negative count or null"))
        if comp.share is not None and not (0 < comp.share < 1 and comp.num_samples is None):
            problems.append(Problem(f"{key}.share", f"must be in (0, 1) and without num_samples, got share {comp.share}, num_samples {comp.num_samples}", f"set {key}.share=0.15 (and {key}.num_samples=null)"))
        if comp.template is not None:
            from cj2.data.templates import TEMPLATES

            if comp.template not in TEMPLATES:
                problems.append(Problem(f"{key}.template", f"unknown judge template {comp.template!r}", f"use one of {', '.join(sorted(TEMPLATES))}"))
        if comp.role == "synthesize" and comp.kind not in ("knowledge", "chat_style"):
            problems.append(Problem(f"{key}.role", f"role synthesize works on knowledge or chat_style components, not {comp.kind}", f"set {key}.kind=knowledge (or chat_style), or another role"))
        if comp.role in ("rejudge", "retemplate", "rft") and comp.kind != "pairwise":
            problems.append(Problem(f"{key}.role", f"role {comp.role} works on pairwise components, not {comp.kind}", f"set {key}.kind=pairwise or {key}.role=as_is"))
        judgment_format = (comp.options or {}).get("judgment_format")
        if judgment_format is not None:
            from cj2.verdicts import FORMATS

            _choice(problems, f"{key}.options.judgment_format", judgment_format, tuple(sorted(FORMATS)))
        if comp.max_reject_fraction is not None and not 0 <= comp.max_reject_fraction <= 1:
            problems.append(Problem(f"{key}.max_reject_fraction", f"must be in [0, 1], got {comp.max_reject_fraction}", "use a fraction such as 0.2, or null for data.max_reject_fraction"))
        needs_source = comp.kind != "synthetic_demo"
        if needs_source and not comp.path and not comp.hub_name:
            problems.append(Problem(f"{key}.path", "no path and no hub_name: this component has no rows", f"set {key}.path=FILE"))
        curated = comp.role in TEACHER_ROLES
        reads_source = reader == "curate" if curated else reader == "build_data"
        if reads_source and comp.path and not os.path.exists(comp.path) and os.path.abspath(comp.path) not in produced:
            problems.append(Problem(f"{key}.path", f"file not found: {comp.path}", f"create it or point {key}.path at an existing file"))
        if reader == "build_data" and curated and os.path.abspath(component_dir(cfg, name)) not in produced and (why := curation_problem(cfg, name)):
            problems.append(Problem(key, f"role {comp.role} reads the teacher's curated rows, and {why}",
                                    f"curate first with the same data and sample settings: python launch/curate.py data={d.name} ... (or the pipeline's curate stage)"))
        if not comp.allow_eval_source and (found := eval_source(comp.path, comp.hub_name, run_eval)):
            bench, why = found
            problems.append(Problem(f"{key}.{'path' if comp.path else 'hub_name'}", f"component {name!r} reads {comp.path or comp.hub_name}, evaluation data of benchmark {bench!r} ({why}): a judge trained on it is scored on what it saw",
                                    f"use a training split of another source, or set {key}.allow_eval_source=true to train on it knowingly"))
    shares = sum(c.share for c in d.components.values() if c.share is not None)
    if shares >= 1:
        problems.append(Problem("data.components", f"the components' shares sum to {shares:g}: nothing is left for the others", "lower the shares below 1 in sum"))
    for path in d.decontaminate_against if reader and d.decontaminate else ():
        if not os.path.exists(path):
            problems.append(Problem("data.decontaminate_against", f"no evaluation data at {path}", "point it at existing evaluation files or folders, or remove the entry"))


def check_model_files(cfg, problems: list[Problem]) -> None:
    hf = cfg.model.hf_path
    if hf and not os.path.isfile(os.path.join(hf, "config.json")):
        problems.append(Problem("model.hf_path", f"no HF checkpoint (config.json) at {hf}", "download the checkpoint there, set CJ2_MODELS, or set model.hf_path=null for random init"))


def check_tracking(cfg, problems: list[Problem]) -> None:
    _choice(problems, "tracking.mode", cfg.tracking.mode, ("offline", "online", "disabled"))
    if cfg.tracking.mode == "online" and not os.environ.get("WANDB_API_KEY") and not os.path.exists(os.path.expanduser("~/.netrc")):
        problems.append(Problem("tracking.mode", "online W&B needs WANDB_API_KEY (or `wandb login`)", "export WANDB_API_KEY, or use tracking=offline and `wandb sync` later"))
    if cfg.tracking.mode != "disabled" and importlib.util.find_spec("wandb") is None:  # e.g. a bare GPU image (docs/training.md)
        problems.append(Problem("tracking.mode", f"tracking.mode={cfg.tracking.mode} needs wandb, which is not installed here", "pip install wandb==0.31.0, or set tracking=disabled"))


def check_sample(cfg, problems: list[Problem], check_files: bool) -> None:
    s = cfg.sample
    from cj2.sample.engines import ENGINES, is_known

    if not is_known(s.engine):
        problems.append(Problem("sample.engine", f"unknown engine {s.engine!r}", f"use one of {', '.join(ENGINES)}, or module:Class for an engine of your own"))
    for key in ("n", "max_tokens", "num_shards", "flush_every", "concurrency", "request_timeout_s"):
        _positive(problems, f"sample.{key}", getattr(s, key))
    if s.temperature < 0:
        problems.append(Problem("sample.temperature", f"must be >= 0, got {s.temperature}", "set sample.temperature=1.0"))
    if not 0 < s.top_p <= 1:
        problems.append(Problem("sample.top_p", f"must be in (0, 1], got {s.top_p}", "set sample.top_p=0.95"))
    if s.shard_index is not None and not 0 <= s.shard_index < s.num_shards:
        problems.append(Problem("sample.shard_index", f"{s.shard_index} is outside [0, {s.num_shards})", "leave sample.shard_index=null to run every shard"))
    _choice(problems, "sample.swap_positions", s.swap_positions, ("random", "both", "none"))
    if s.accept_cap < 0:
        problems.append(Problem("sample.accept_cap", f"must be >= 0, got {s.accept_cap}", "set sample.accept_cap=1 (0 keeps every accepted candidate)"))
    if s.max_retries < 0:
        problems.append(Problem("sample.max_retries", f"must be >= 0, got {s.max_retries}", "set sample.max_retries=5"))
    if s.n_first is not None and s.n_first < 1:  # above n it asks for all n at once
        problems.append(Problem("sample.n_first", f"must be >= 1, got {s.n_first}", "set sample.n_first=2, or null to ask for all n at once"))
    if not 0 < s.near_duplicate <= 1:
        problems.append(Problem("sample.near_duplicate", f"must be in (0, 1], got {s.near_duplicate}", "set sample.near_duplicate=0.8 (1.0: only exact copies are duplicates)"))
    if s.context_length is not None and s.context_length <= s.max_tokens:
        problems.append(Problem("sample.context_length", f"{s.context_length} leaves no room for a prompt beside sample.max_tokens={s.max_tokens}",
                                "set it to the teacher server's context (vLLM --max-model-len), or null to read it from the server"))
    from cj2.data.templates import TEMPLATES
    from cj2.verdicts import FORMATS

    _choice(problems, "sample.template", s.template, tuple(sorted(n for n, t in TEMPLATES.items() if t.kind == "pairwise")))
    _choice(problems, "sample.verdict_format", s.verdict_format, tuple(sorted(FORMATS)))
    if s.choices:
        from cj2.verdicts import parse

        if s.engine != "hf":
            problems.append(Problem("sample.choices", f"constrained decoding is an option of the hf engine, not {s.engine}", "set sample.engine=hf, or sample.choices=[]"))
        unreadable = [c for c in s.choices if not parse(s.verdict_format, c).ok]
        if unreadable:
            problems.append(Problem("sample.choices", f"{unreadable} state no verdict in format {s.verdict_format}: every candidate would be rejected",
                                    "list verdicts of sample.verdict_format, e.g. sample.template=mtbench_pair sample.verdict_format=mtbench_pair sample.choices=\"['[[A]]','[[B]]']\""))
    if s.engine == "openai" and not (s.base_url or s.base_url_file):
        problems.append(Problem("sample.base_url", "the openai engine needs a server", "set sample.base_url=http://HOST:PORT/v1, or sample.base_url_file=FILE written by slurm/teacher_server.sbatch"))
    if not check_files:
        return
    if not s.input or not os.path.isfile(s.input):
        problems.append(Problem("sample.input", f"no input file at {s.input!r}", "set sample.input=FILE.jsonl (one JudgeExample per line, see docs/sampling.md)"))
    check_teacher_model(cfg, problems)


def check_curate(cfg, problems: list[Problem], check_files: bool) -> None:
    c = cfg.curate
    for key in ("num_shards", "flush_every"):
        _positive(problems, f"curate.{key}", getattr(c, key))
    if c.shard_index is not None and not 0 <= c.shard_index < c.num_shards:
        problems.append(Problem("curate.shard_index", f"{c.shard_index} is outside [0, {c.num_shards})", "leave curate.shard_index=null to run every shard"))
    if not 0 <= c.template_share <= 1:
        problems.append(Problem("curate.template_share", f"must be in [0, 1], got {c.template_share}", "set curate.template_share=0.25 (0: every row in the CJ2 CoT)"))
    if not check_files:
        return
    from cj2.data.curation.curated import teacher_components

    if cfg.sample.choices:
        problems.append(Problem("sample.choices", "curation also asks the engine for answers and styled responses, which constrained decoding would turn into verdicts",
                                "leave sample.choices=[] for launch/curate.py"))
    if not teacher_components(cfg):
        problems.append(Problem("data.components", f"mixture {cfg.data.name!r} has no component with a teacher role (rejudge, rft, synthesize): nothing to curate",
                                "pick a mixture that has one (e.g. data=cj2), or build it directly with launch/build_data.py"))
    check_teacher_model(cfg, problems)


def check_teacher_model(cfg, problems: list[Problem]) -> None:
    s = cfg.sample
    if s.engine in ("hf", "megatron") and not s.model:
        problems.append(Problem("sample.model", f"the {s.engine} engine needs a model", "set sample.model=HF_DIR (hf also takes a .gguf file)"))
    elif s.engine in ("hf", "megatron") and not os.path.exists(s.model):
        problems.append(Problem("sample.model", f"no checkpoint at {s.model!r}", "point sample.model at a HF checkpoint dir (hf also takes a .gguf file)"))


def check_memory(cfg, problems: list[Problem]) -> None:
    """Refuse a GPU layout the memory planner says will not fit, on the GPU or in a SLURM job's
    host memory at a checkpoint save (see cj2.config.plan)."""
    c = cfg.cluster
    if c.gpus_per_node <= 0 or problems:
        return
    from cj2.config.plan import host_memory_plan, logit_positions_of_build, memory_plan

    plan = memory_plan(cfg, logit_positions=logit_positions_of_build(cfg))
    if plan.total_gib > c.gpu_memory_gb:
        parts = ", ".join(f"{k}={v}" for k, v in plan.as_dict().items() if k.endswith("_gib"))
        problems.append(Problem("parallel", f"the planner predicts {plan.total_gib:.1f} GiB per GPU > cluster.gpu_memory_gb={c.gpu_memory_gb} ({parts})", "raise tp/pp, set parallel.recompute=selective (or full) or parallel.use_distributed_optimizer=true, or lower parallel.micro_batch_size / data.seq_length"))
    host = host_memory_plan(cfg)
    if c.kind == "slurm" and c.mem_gb and c.mem_gb < host.total_gib:
        problems.append(Problem("cluster.mem_gb", f"{c.mem_gb} GB per node is below the ~{host.total_gib:.0f} GB a checkpoint save needs: each of the node's {host.ranks_per_node} ranks stages its {host.checkpoint_staging_gib_per_rank:.1f} GB share of the checkpoint in host memory, besides ~{host.process_gib_per_rank:.0f} GB of process (cj2.config.plan)",
                                f"set cluster.mem_gb=0 (all of each node's memory) or at least {math.ceil(host.total_gib)}"))


# Seconds between SLURM's warning signal and the forced requeue that the job keeps for itself
# (cj2.cluster.job installs the handler with grace = signal_delay_s - this).
REQUEUE_MARGIN_S = 20


def check_preemption_lead(cfg, problems: list[Problem]) -> None:
    """The warning signal must leave time to finish a step and save a checkpoint."""
    c = cfg.cluster
    if c.kind != "slurm" or c.gpus_per_node <= 0 or problems:
        return
    from cj2.config.plan import save_seconds, step_seconds

    step, save = step_seconds(cfg), save_seconds(cfg)
    grace = c.signal_delay_s - REQUEUE_MARGIN_S
    if grace < step + save:
        need = int(step + save + REQUEUE_MARGIN_S) + 1
        problems.append(Problem("cluster.signal_delay_s", f"{c.signal_delay_s}s leaves {grace}s after the warning signal, but a step takes ~{step:.0f}s and a checkpoint ~{save:.0f}s at {c.checkpoint_write_gbps} GB/s per node (planner estimates)", f"set cluster.signal_delay_s>={need} (or cluster.checkpoint_write_gbps to your filesystem's figure)"))


def check_export(cfg, problems: list[Problem], check_files: bool) -> None:
    target = cfg.train.portable_export_dir
    if not target:
        problems.append(Problem("train.portable_export_dir", "the export needs a run dir to write to", "set train.portable_export_dir=NEW_RUN_DIR (then train with run_dir=NEW_RUN_DIR)"))
    elif os.path.abspath(target) == os.path.abspath(cfg.run_dir):
        problems.append(Problem("train.portable_export_dir", f"{target} is the run being exported", "export into a new run dir"))
    if check_files and not os.path.isdir(os.path.join(cfg.run_dir, "checkpoints")):
        problems.append(Problem("run_dir", f"no checkpoints under {cfg.run_dir}", "run with the options of the run whose checkpoint you export"))


def check_miniature(cfg, problems: list[Problem], check_files: bool) -> None:
    """launch/mini_table4.py: what its stages need, before any of them runs."""
    from cj2.data.templates import TEMPLATES

    m = cfg.mini
    _choice(problems, "mini.family", m.family, ("arith", "gsm8k"))
    unknown = [loss for loss in m.losses if loss not in LOSSES]
    if unknown or not m.losses:
        problems.append(Problem("mini.losses", f"{list(m.losses)}: {unknown or 'no loss'} is not a loss of {', '.join(LOSSES)}", "list losses, e.g. mini.losses=[none,margin]"))
    if not m.seeds or len(set(m.seeds)) != len(m.seeds):
        problems.append(Problem("mini.seeds", f"{list(m.seeds)}: the seeds must be distinct and at least one", "set mini.seeds=[1,2,3]"))
    for key in ("train_pairs", "workers"):
        _positive(problems, f"mini.{key}", getattr(m, key))
    if m.bon_questions < 0 or (m.heldout_questions and m.bon_questions > m.heldout_questions):
        problems.append(Problem("mini.bon_questions", f"{m.bon_questions} is outside [0, mini.heldout_questions={m.heldout_questions}]", "set mini.bon_questions to at most the held-out questions"))
    if m.family == "gsm8k" and not m.train_file and not m.heldout_questions:
        problems.append(Problem("mini.heldout_questions", "0 (all of heldout_file) leaves no training questions: mini.train_file is not set",
                                "set mini.heldout_questions to part of heldout_file (the rest trains), or mini.train_file=GSM8K train.jsonl"))
    if m.family == "arith" and m.train_pool < m.train_pairs:
        problems.append(Problem("mini.train_pool", f"{m.train_pool} training questions cannot give {m.train_pairs} pairs a run", f"set mini.train_pool>={m.train_pairs}"))
    template = TEMPLATES.get(m.template)
    if template is None or template.verdict_format != "cj2_cot":
        problems.append(Problem("mini.template", f"{m.template!r} is not a CJ2 CoT template: the rule teacher writes and reads that layout", "set mini.template=cj2_cot or cj2_cot_compact"))
    if m.generation_items and not cfg.train.export_hf:
        problems.append(Problem("mini.generation_items", "generation accuracy loads each judge's hf/ export, and train.export_hf is off", "set train.export_hf=true, or mini.generation_items=0"))
    if m.control_questions and not m.control_dir:
        problems.append(Problem("mini.control_dir", "a negative control needs MMLU *_test.csv files", "set mini.control_dir=DIR, or mini.control_questions=0"))
    if not check_files:
        return
    files = [("mini.train_file", m.train_file)] if m.family == "gsm8k" and m.train_file else []
    files += [("mini.heldout_file", m.heldout_file)] if m.family == "gsm8k" else []
    files += [("mini.control_dir", m.control_dir)] if m.control_questions else []
    for key, path in files:
        if not path or not os.path.exists(path):
            problems.append(Problem(key, f"not found: {path}", f"point {key} at the file (GSM8K train.jsonl / test.jsonl: openai/grade-school-math)"))
    check_model_files(cfg, problems)


def problems_of(cfg, stage: str = "compose", task: str = "train", produced: frozenset[str] = frozenset()) -> list[Problem]:
    """All problems of ``cfg``. ``stage='run'`` also checks the files and credentials ``task`` needs,
    except ``produced``: the absolute paths that earlier stages of a pipeline will write."""
    problems: list[Problem] = []
    check_model(cfg, problems)
    check_parallel(cfg, problems)
    check_cluster(cfg, problems)
    check_loss(cfg, problems)
    check_train(cfg, problems)
    # Only the build reads the component files; training reads the build (cj2.train.job.prebuilt_data).
    check_data(cfg, problems, reader=task if stage == "run" and task in ("build_data", "curate") else None, produced=produced)
    check_sample(cfg, problems, check_files=stage == "run" and task == "sample")
    check_curate(cfg, problems, check_files=stage == "run" and task == "curate")
    check_memory(cfg, problems)
    if task == "train":
        check_preemption_lead(cfg, problems)
    if task == "export_checkpoint":
        check_export(cfg, problems, check_files=stage == "run")
    if task == "mini_table4":
        check_miniature(cfg, problems, check_files=stage == "run")
    if stage == "run" and task == "train":
        check_model_files(cfg, problems)
        check_tracking(cfg, problems)
    return problems


class ConfigWarning(UserWarning):
    """A config that runs, but slower or otherwise than its user probably expects."""


def warnings_of(cfg, task: str = "train") -> list[str]:
    """What runs but deserves a loud word before it starts."""
    if task != "train" or cfg.cluster.gpus_per_node <= 0 or cfg.model.attention != "auto":
        return []
    if importlib.util.find_spec("transformer_engine") is not None:
        return []
    return [
        "model.attention=auto on a GPU config, and Transformer Engine does not import here: where it is missing, training "
        "runs the local layer spec (one SDPA call per sample, unfused RoPE and norms), ~0.75-0.85x the TE path's speed. "
        "Run in an NGC PyTorch container (TE + Apex), or set model.attention=sdpa (or te, or flash_attn) to choose the "
        "backend knowingly; run.json records the backend that ran."
    ]


def validate(cfg, stage: str = "compose", task: str = "train") -> None:
    """Raise :class:`ConfigError` listing every problem of ``cfg``; warn (:class:`ConfigWarning`)
    about what runs but slowly; return quietly if neither."""
    problems = problems_of(cfg, stage, task)
    if problems:
        raise ConfigError(problems)
    for message in warnings_of(cfg, task):
        warnings.warn(message, ConfigWarning, stacklevel=2)
