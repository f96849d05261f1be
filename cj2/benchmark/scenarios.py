"""Scenarios and difficulty: cluster the pool (TF-IDF + k-means), name the clusters, ask each query's difficulty.

Clustering is seeded and deterministic, so a resumed build finds the same clusters (the stored
naming and difficulty calls' fingerprints would refuse a different one). Cluster indices are
stable for a given pool, seed and ``num_scenarios``: the report lists each cluster's top terms and
sample queries, from which ``bench.scenario_names=[Knowledge, ...]`` (one name per cluster) can be written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cj2.benchmark.queries import BenchInputError, Query
from cj2.eval.benchmarks.judgerbenchv2.table import SCENARIOS as PUBLISHED_SCENARIOS

DIFFICULTIES = ("easy", "medium", "hard")
UNKNOWN = "unknown"  # the difficulty judge's answer named no level: its own stratum, counted in the report
RESERVED = ("benchmark", "ground_truth", "report", "quarantine")  # output files beside the {scenario}.json
SAMPLE_QUERIES = 8  # queries of a cluster shown to the classifier and in the report


@dataclass(frozen=True)
class Clustering:
    labels: list[int]  # cluster of each query, in pool order
    top_terms: dict[int, list[str]]
    samples: dict[int, list[str]]  # the queries nearest each centroid


def cluster_queries(queries: Sequence[Query], num_clusters: int, seed: int) -> Clustering:
    """TF-IDF over word and CJK character n-grams, then k-means (k capped at the number of queries)."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    k = min(num_clusters, len(queries))
    texts = [q.text for q in queries]
    # char_wb n-grams cover Chinese, which has no spaces between words, and typos; sublinear tf damps long queries.
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1)
    matrix = vectorizer.fit_transform(texts)
    if k <= 1:
        return Clustering([0] * len(texts), {0: []}, {0: texts[:SAMPLE_QUERIES]})
    km = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(matrix)
    labels = [int(x) for x in km.labels_]
    terms = vectorizer.get_feature_names_out()
    top_terms = {}
    for c in range(k):
        # n-grams overlap ("pyt", "yth", "ytho"): keep the distinct ones of 3+ characters, heaviest first.
        ranked = [terms[i].strip() for i in np.argsort(-km.cluster_centers_[c], kind="stable")]
        top_terms[c] = list(dict.fromkeys(t for t in ranked if len(t) >= 3))[:8]
    distances = km.transform(matrix)
    samples = {}
    for c in range(k):
        members = [i for i, label in enumerate(labels) if label == c]
        members.sort(key=lambda i: (distances[i, c], i))
        samples[c] = [texts[i] for i in members[:SAMPLE_QUERIES]]
    return Clustering(labels, top_terms, samples)


def check_scenario_name(name: str, setting: str) -> str:
    if not isinstance(name, str) or not name or name.startswith(".") or "/" in name or "\\" in name or name in RESERVED:
        raise BenchInputError(setting, f"scenario name {name!r} cannot be a file name beside the others (no '/', no leading '.', not one of {', '.join(RESERVED)})")
    return name


def mapped_names(num_clusters: int, names: Sequence[str]) -> dict[int, str]:
    """Cluster index -> scenario from ``bench.scenario_names`` (entry k names cluster k); none given: ``cluster_<k>``."""
    if not names:
        return {c: f"cluster_{c}" for c in range(num_clusters)}
    if len(names) != num_clusters:
        raise BenchInputError("bench.scenario_names", f"{len(names)} name(s) for {num_clusters} clusters: give one per cluster (the same name twice merges two clusters)")
    return {c: check_scenario_name(name, f"bench.scenario_names[{c}]") for c, name in enumerate(names)}


def classifier_messages(samples: Sequence[str], choices: Sequence[str]) -> list[dict[str, str]]:
    shown = "\n".join(f"- {s[:300]}" for s in samples)
    text = (
        "Below are user queries that belong together. Which one of these scenarios describes them best?\n"
        f"Scenarios: {', '.join(choices)}\n\nQueries:\n{shown}\n\n"
        "Answer with the scenario name only, in the form: Scenario: <name>"
    )
    return [{"role": "user", "content": text}]


def parse_scenario(text: str, choices: Sequence[str]) -> str | None:
    """The choice after the last ``Scenario:``, else the only choice named anywhere; None otherwise."""
    by_lower = {c.lower(): c for c in choices}
    for match in reversed(re.findall(r"scenario\s*[:：]\s*([^\s,.;\"'`*]+)", text, flags=re.IGNORECASE)):
        if match.lower() in by_lower:
            return by_lower[match.lower()]
    named = {c for c in choices if re.search(rf"(?<![\w&]){re.escape(c)}(?![\w&])", text, flags=re.IGNORECASE)}
    return named.pop() if len(named) == 1 else None


def difficulty_messages(query: str) -> list[dict[str, str]]:
    text = (
        "How hard is it for a capable AI assistant to answer the following user query well? "
        "Consider the knowledge, reasoning and care it needs.\n\n"
        f"[Query starts]\n{query}\n[Query ends]\n\n"
        "Answer in the form: Difficulty: easy | medium | hard"
    )
    return [{"role": "user", "content": text}]


def parse_difficulty(text: str) -> str:
    """The level after the last ``Difficulty:``, else the only level named; ``unknown`` otherwise."""
    tagged = re.findall(r"difficulty\s*[:：]\s*\**\s*(easy|medium|hard)\b", text, flags=re.IGNORECASE)
    if tagged:
        return tagged[-1].lower()
    named = {m.lower() for m in re.findall(r"\b(easy|medium|hard)\b", text, flags=re.IGNORECASE)}
    return named.pop() if len(named) == 1 else UNKNOWN


def scenario_order(names: Sequence[str]) -> list[str]:
    """The published scenarios in the published order, then any others alphabetically."""
    unique = set(names)
    return [s for s in PUBLISHED_SCENARIOS if s in unique] + sorted(unique - set(PUBLISHED_SCENARIOS))
