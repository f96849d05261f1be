"""Stratified selection: Q queries per scenario, spread evenly over (difficulty, language) strata, seeded."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from cj2.benchmark.queries import Query


@dataclass(frozen=True)
class LabelledQuery:
    query: Query
    scenario: str
    difficulty: str

    @property
    def stratum(self) -> tuple[str, str]:
        return (self.difficulty, self.query.lan)


def _round_robin(queues: list[list], take: int) -> list:
    """Up to ``take`` items, the queues taking turns; an empty queue's turn passes to the next."""
    chosen, turn = [], 0
    while len(chosen) < take and any(queues):
        queue = queues[turn % len(queues)]
        if queue:
            chosen.append(queue.pop(0))
        turn += 1
    return chosen


class _Interleaved(list):
    """A difficulty level's queries with its languages taking turns (popped from the front)."""

    def __init__(self, by_language: list[list]):
        super().__init__(_round_robin(by_language, sum(len(q) for q in by_language)))


def select_per_scenario(pool: Sequence[LabelledQuery], per_scenario: int, seed: int) -> dict[str, list[LabelledQuery]]:
    """Up to ``per_scenario`` queries of each scenario, in pool order.

    Difficulty levels take turns (round robin over the sorted levels); within a level, languages
    take turns; within a (level, language) stratum the order is a seeded shuffle. So each level gets
    Q / #levels queries when it has them, split evenly over languages, and a small stratum's unused
    share goes to the others: as balanced as the pool allows. A scenario with fewer than Q queries
    keeps them all (the report says so).
    """
    by_scenario: dict[str, list[LabelledQuery]] = defaultdict(list)
    for item in pool:
        by_scenario[item.scenario].append(item)
    selected = {}
    for scenario, items in by_scenario.items():
        # A string seed: Random hashes it with SHA-512, the same in every process (unlike hash()).
        rng = random.Random(f"{seed}/{scenario}")
        strata: dict[tuple[str, str], list[LabelledQuery]] = defaultdict(list)
        for item in items:
            strata[item.stratum].append(item)
        for key in sorted(strata):
            strata[key].sort(key=lambda it: it.query.row)
            rng.shuffle(strata[key])
        levels = sorted({difficulty for difficulty, _ in strata})
        queues = [_Interleaved([strata[key] for key in sorted(strata) if key[0] == level]) for level in levels]
        chosen = _round_robin(queues, per_scenario)
        selected[scenario] = sorted(chosen, key=lambda it: it.query.row)
    return selected
