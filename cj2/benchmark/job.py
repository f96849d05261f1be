"""``launch/build_bench.py`` lands here: the build's steps in order, every model call stored exactly once.

1. read the query pool (bad rows quarantined), cluster it into scenarios and name them, ask the
   difficulty judge each query's difficulty;
2. select Q queries per scenario, balanced over difficulty and language;
3. the base model and each policy answer every selected query;
4. every judge judges every (base, policy) pair in both orders; majority label, tie rule;
5. write the JudgerBenchV2 files, the win table and ``benchmark.json``;
6. write the report and plots.

Each model's calls of a step are one stored stage (:mod:`cj2.benchmark.calls`) under
``{output_dir}/calls/``; a rerun of a killed build makes only the calls no stage holds, and one
model's engine is loaded at a time.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from cj2.benchmark.calls import CallStats, Decoding, stored_calls
from cj2.benchmark.moj import ORDERS, TIE_RULES, Label, Pair, agreement, decide, judge_requests, vote
from cj2.benchmark.queries import BenchInputError, read_queries
from cj2.benchmark.records import category_of, scenario_records, win_table, write_benchmark
from cj2.benchmark.report import write_report
from cj2.benchmark.responses import response_requests
from cj2.benchmark.scenarios import (
    check_scenario_name,
    classifier_messages,
    cluster_queries,
    difficulty_messages,
    mapped_names,
    parse_difficulty,
    parse_scenario,
    scenario_order,
)
from cj2.benchmark.select import LabelledQuery, select_per_scenario
from cj2.eval.benchmarks.judgerbenchv2.positions import BLOCK, REPEATS
from cj2.eval.core.files import stop_on_input_error
from cj2.sample.model_entries import EngineFactory, LazyEngine, ModelEntryError, ModelSpec, build_engine_for, model_spec
from cj2.utils.shard_store import write_jsonl

MAX_RECORDS_PER_SCENARIO = BLOCK * REPEATS  # the published A/B position list covers 1000 records


class Models:
    """Every model entry of the config as a :class:`ModelSpec`, checked."""

    def __init__(self, bench):
        if not bench.base_model:
            raise BenchInputError("bench.base_model", "not set: the model every policy is compared with")
        if not bench.policies:
            raise BenchInputError("bench.policies", "empty: name at least one policy model to compare with the base model")
        if not bench.judges:
            raise BenchInputError("bench.judges", "empty: name at least one judge model")
        self.base = model_spec(bench.base_model, bench, "bench.base_model")
        self.policies = [model_spec(p, bench, f"bench.policies[{i}]") for i, p in enumerate(bench.policies)]
        self.judges = [model_spec(j, bench, f"bench.judges[{i}]") for i, j in enumerate(bench.judges)]
        # tie_rule=arbiter without an arbiter: the first judge's own votes decide the splits (an arbiter outside the judges is better)
        self.arbiter = model_spec(bench.arbiter, bench, "bench.arbiter") if bench.arbiter else self.judges[0] if bench.tie_rule == "arbiter" else None
        self.difficulty = model_spec(bench.difficulty_judge, bench, "bench.difficulty_judge") if bench.difficulty_judge else self.judges[0]
        self.classifier = model_spec(bench.scenario_classifier, bench, "bench.scenario_classifier") if bench.scenario_classifier else None
        answering = [self.base.name] + [p.name for p in self.policies]
        if len(set(answering)) != len(answering):
            raise BenchInputError("bench.policies", f"model names must differ (records tell models apart by name): {answering}; give entries a 'name'")
        judges = [j.name for j in self.judges]
        if len(set(judges)) != len(judges):
            raise BenchInputError("bench.judges", f"judge names must differ: {judges}; give entries a 'name'")


def check_settings(bench, models: Models) -> None:
    if not bench.queries:
        raise BenchInputError("bench.queries", "not set: a JSONL file of {\"query\": ...} rows")
    if bench.tie_rule not in TIE_RULES:
        raise BenchInputError("bench.tie_rule", f"expected one of {', '.join(TIE_RULES)}, got {bench.tie_rule!r}")
    if bench.queries_per_scenario < 1 or bench.num_scenarios < 1:
        raise BenchInputError("bench.queries_per_scenario", f"queries_per_scenario and num_scenarios must be >= 1, got {bench.queries_per_scenario} and {bench.num_scenarios}")
    records = bench.queries_per_scenario * len(models.policies)
    if records > MAX_RECORDS_PER_SCENARIO:
        raise BenchInputError("bench.queries_per_scenario", f"{bench.queries_per_scenario} queries x {len(models.policies)} policies = {records} records per scenario; JudgerBenchV2's position list covers {MAX_RECORDS_PER_SCENARIO}")
    for choice in bench.scenario_choices:
        check_scenario_name(choice, "bench.scenario_choices")


def _stage_dir(work: Path, *parts: str) -> Path:
    return work.joinpath(*(re.sub(r"[^A-Za-z0-9_.-]+", "_", p) for p in parts))


class Caller:
    """Runs one stored stage on one model and closes its engine afterwards (one model loaded at a time)."""

    def __init__(self, bench, factory: EngineFactory, stats: CallStats):
        self.bench, self.factory, self.stats = bench, factory, stats

    def __call__(self, stage: str, directory: Path, spec: ModelSpec, requests: list[dict], decoding: Decoding) -> list[str]:
        engine = LazyEngine(spec, self.factory)
        try:
            return stored_calls(directory, stage, requests, engine, spec.fingerprint(), decoding, self.bench.flush_every, self.bench.progress, self.stats)
        finally:
            engine.close()


def build(bench, factory: EngineFactory = build_engine_for) -> dict[str, Any]:
    """Build (or resume) the benchmark under ``bench.output_dir``; returns the report."""
    from cj2.eval.judging.official_parsers import parser_for

    models = Models(bench)
    check_settings(bench, models)
    parse = parser_for(bench.judge_parser)
    out = Path(bench.output_dir)
    work = out / "calls"
    stats = CallStats()
    call = Caller(bench, factory, stats)
    judge_decoding = Decoding(bench.judge_temperature, 1.0, bench.judge_max_tokens, bench.seed)
    notes: list[str] = []

    # 1. The pool, its scenarios and difficulties.
    pool = read_queries(bench.queries, bench.query_field)
    write_jsonl(out / "quarantine.jsonl", pool.quarantined)
    print(f"queries: {pool.rows_in} rows in = {len(pool.queries)} kept + {len(pool.quarantined)} quarantined ({out / 'quarantine.jsonl'})", file=sys.stderr)
    clustering = cluster_queries(pool.queries, bench.num_scenarios, bench.seed)
    clusters = sorted(clustering.top_terms)
    if len(clusters) < bench.num_scenarios:
        notes.append(f"{len(pool.queries)} queries: {len(clusters)} clusters instead of {bench.num_scenarios}")
    if models.classifier is not None:
        requests = [{"key": {"cluster": c}, "messages": classifier_messages(clustering.samples[c], bench.scenario_choices)} for c in clusters]
        answers = call("scenario names", _stage_dir(work, "scenario_names"), models.classifier, requests, judge_decoding)
        names = {}
        for c, text in zip(clusters, answers, strict=True):
            names[c] = parse_scenario(text, bench.scenario_choices) or f"cluster_{c}"
            if names[c] == f"cluster_{c}":
                notes.append(f"cluster {c}: the classifier named no scenario of bench.scenario_choices; kept as cluster_{c}")
    else:
        names = mapped_names(len(clusters), bench.scenario_names)
    requests = [{"key": {"query_row": q.row}, "messages": difficulty_messages(q.text)} for q in pool.queries]
    answers = call("difficulty", _stage_dir(work, "difficulty"), models.difficulty, requests, judge_decoding)
    labelled = [LabelledQuery(q, names[c], parse_difficulty(t)) for q, c, t in zip(pool.queries, clustering.labels, answers, strict=True)]

    # 2. Stratified selection.
    selected_by_scenario = select_per_scenario(labelled, bench.queries_per_scenario, bench.seed)
    scenarios = scenario_order(list(selected_by_scenario))
    for s in scenarios:
        if len(selected_by_scenario[s]) < bench.queries_per_scenario:
            notes.append(f"{s}: {len(selected_by_scenario[s])} queries in the pool, fewer than queries_per_scenario={bench.queries_per_scenario}: all taken")
    selected = [item for s in scenarios for item in selected_by_scenario[s]]

    # 3. Responses: base first, then the policies, one model at a time.
    response_decoding = Decoding(bench.response_temperature, bench.response_top_p, bench.response_max_tokens, bench.seed)
    requests = response_requests(selected)
    answers_of = {}
    for i, spec in enumerate([models.base, *models.policies]):
        answers_of[spec.name] = dict(zip((it.query.row for it in selected), call(f"responses {spec.name}", _stage_dir(work, "responses", f"{i:02d}-{spec.name}"), spec, requests, response_decoding), strict=True))

    pairs = [
        Pair(s, category_of(s), it.query.lan, it.query.row, it.query.text, models.base.name, answers_of[models.base.name][it.query.row], p.name, answers_of[p.name][it.query.row])
        for s in scenarios
        for p in models.policies
        for it in selected_by_scenario[s]
    ]

    # 4. Mixture of Judges, both orders each.
    requests = judge_requests(pairs)
    votes: dict[str, list[tuple[str | None, ...]]] = {}
    for i, judge in enumerate(models.judges):
        texts = call(f"judge {judge.name}", _stage_dir(work, "judgments", f"{i:02d}-{judge.name}"), judge, requests, judge_decoding)
        votes[judge.name] = [tuple(vote(pair, base_is_a, texts[2 * p + o], parse) for o, base_is_a in enumerate(ORDERS)) for p, pair in enumerate(pairs)]
    all_votes = [[v for judge in votes for v in votes[judge][p]] for p in range(len(pairs))]
    first = [decide(v, "drop") for v in all_votes]
    arbiter_votes: dict[int, tuple[str | None, ...]] = {}
    tied = [p for p, label in enumerate(first) if label.winner is None]
    if bench.tie_rule == "arbiter" and tied and models.arbiter.name in votes:
        # The arbiter is one of the judges: its votes on the tied pairs are already in hand (asking again
        # repeats the same prompts for the same answers).
        arbiter_votes = {p: votes[models.arbiter.name][p] for p in tied}
    elif bench.tie_rule == "arbiter" and tied:
        texts = call(f"arbiter {models.arbiter.name}", _stage_dir(work, "arbiter", models.arbiter.name), models.arbiter, [requests[2 * p + o] for p in tied for o in range(len(ORDERS))], judge_decoding)
        for k, p in enumerate(tied):
            arbiter_votes[p] = tuple(vote(pairs[p], base_is_a, texts[2 * k + o], parse) for o, base_is_a in enumerate(ORDERS))
    labels: list[Label] = [decide(all_votes[p], bench.tie_rule, arbiter_votes.get(p)) for p in range(len(pairs))]

    # 5. The benchmark files.
    records_by_scenario = {s: scenario_records(pairs, labels, s, [p.name for p in models.policies]) for s in scenarios}
    for s in scenarios:
        if not records_by_scenario[s]:
            # An empty scenario would score 0 and pull the benchmark mean down for no judge's fault.
            notes.append(f"{s}: every pair was dropped (ties); the scenario is left out of the benchmark")
            del records_by_scenario[s]
    benchmark_scenarios = list(records_by_scenario)
    table = win_table(pairs, labels, benchmark_scenarios, [p.name for p in models.policies])
    manifest = {
        "benchmark": "judgerbenchv2 format, built by launch/build_bench.py",
        "scenarios": benchmark_scenarios,
        "base_model": models.base.name,
        "policies": [p.name for p in models.policies],
        "judges": [j.name for j in models.judges],
        "arbiter": models.arbiter.name if models.arbiter else None,
        "tie_rule": bench.tie_rule,
        "queries_per_scenario": bench.queries_per_scenario,
        "seed": bench.seed,
        "records": {s: len(records_by_scenario[s]) for s in benchmark_scenarios},
    }

    # 6. The report.
    report = build_report(bench, models, pool, clustering, names, labelled, selected_by_scenario, scenarios, pairs, votes, labels, stats, notes)
    write_report(out, report, bench.plots)
    write_benchmark(out, records_by_scenario, table, manifest)
    return report


def build_report(bench, models, pool, clustering, names, labelled, selected_by_scenario, scenarios, pairs, votes, labels, stats, notes) -> dict[str, Any]:
    pool_sizes = Counter(item.scenario for item in labelled)
    per_scenario = {}
    for s in scenarios:
        index = [p for p, pair in enumerate(pairs) if pair.scenario == s]
        agree = agreement({j: [votes[j][p] for p in index] for j in votes})
        rates = [v["agreement"] for v in agree["pairwise"].values() if v["agreement"] is not None]
        how = Counter(labels[p].how for p in index)
        per_scenario[s] = {
            "pool": pool_sizes[s],
            "selected": len(selected_by_scenario[s]),
            "difficulty": dict(Counter(it.difficulty for it in selected_by_scenario[s])),
            "language": dict(Counter(it.query.lan for it in selected_by_scenario[s])),
            "pairs": len(index),
            "kept": sum(labels[p].winner is not None for p in index),
            "by_arbiter": how["arbiter"],
            "dropped": how["dropped_tie"] + how["dropped_arbiter_split"],
            # Per policy: a dropped pair leaves that model's denominator, so its win share (s1) moves.
            "dropped_by_model": {m: sum(labels[p].winner is None for p in index if pairs[p].model == m) for m in (x.name for x in models.policies)},
            "policy_wins": sum(labels[p].winner == "model" for p in index),
            "agreement": agree,
            "mean_pairwise_agreement": sum(rates) / len(rates) if rates else None,
        }
    cluster_sizes = Counter(clustering.labels)
    judge_votes = {}
    for j, vs in votes.items():
        flat = [v for pair_votes in vs for v in pair_votes]
        both = [pv for pv in vs if all(v is not None for v in pv)]
        judge_votes[j] = {"votes": len(flat), "unparsed": sum(v is None for v in flat), "position_consistency": sum(len(set(pv)) == 1 for pv in both) / len(both) if both else None}
    return {
        "rows": {"in": pool.rows_in, "kept": len(pool.queries), "quarantined": len(pool.quarantined)},
        "quarantine_reasons": dict(Counter(q["reason"].split(" (")[0] for q in pool.quarantined)),
        "base_model": models.base.name,
        "policies": [p.name for p in models.policies],
        "judges": [j.name for j in models.judges],
        "arbiter": models.arbiter.name if models.arbiter else None,
        "difficulty_judge": models.difficulty.name,
        "tie_rule": bench.tie_rule,
        "clusters": [{"cluster": c, "scenario": names[c], "size": cluster_sizes[c], "top_terms": clustering.top_terms[c], "samples": clustering.samples[c][:3]} for c in sorted(clustering.top_terms)],
        "difficulty_unknown": sum(it.difficulty == "unknown" for it in labelled),
        "scenarios": per_scenario,
        "judge_votes": judge_votes,
        "dropped_by_model": {m: sum(per_scenario[s]["dropped_by_model"][m] for s in scenarios) for m in (x.name for x in models.policies)},
        "calls": stats.stages,
        "calls_made_this_run": stats.made,
        "notes": notes,
    }


def run(cfg) -> dict[str, Any]:
    with stop_on_input_error("build_bench", ModelEntryError):  # BenchInputError, a model entry, or a setting read through cj2.eval (bench.judge_parser)
        report = build(cfg.bench)
    out = Path(cfg.bench.output_dir)
    kept = sum(s["kept"] for s in report["scenarios"].values())
    print(f"benchmark: {len(report['scenarios'])} scenarios, {kept} labelled pairs in {out}; report {out / 'report' / 'report.md'}; {report['calls_made_this_run']} model calls this run")
    print(f"evaluate a judge on it: python launch/eval.py eval=judgerbenchv2 eval.data_dir={out} eval.model=JUDGE")
    return report

