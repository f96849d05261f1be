"""The output record of one sampled item, and the seed it is sampled with."""

from __future__ import annotations

from typing import Any

from cj2.sample.items import Item, stable_hash


def item_seed(base_seed: int, item_id: str) -> int:
    """A seed fixed by the item, not by its position in a batch, so a resumed shard repeats it."""
    return (base_seed * 1_000_003 + stable_hash(item_id)) % (2**31 - 1)


def item_record(item: Item, messages: list[dict[str, str]], candidates: list[dict[str, Any]], sampling: dict[str, Any], gen_tokens: float, gen_seconds: float) -> dict[str, Any]:
    example = item.example
    return {
        "id": item.id,
        "row": item.row,
        "source": example.source,
        "label": example.label,
        "example": example.to_dict(),
        "messages": messages,
        "sampling": sampling,
        "candidates": candidates,
        "num_parsed": sum(c["parsed"] for c in candidates),
        "num_accepted": sum(c["accepted"] for c in candidates),
        "num_kept": sum(c["kept"] for c in candidates),
        # This item's share of its batch (batches are timed, not items): sums give shard totals.
        "gen_tokens": gen_tokens,
        "gen_seconds": gen_seconds,
    }


def training_samples(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The kept candidates of a record as ``TrainingSample`` dicts (the RFT training data)."""
    from cj2.data.records import TrainingSample

    return [
        TrainingSample(
            messages=record["messages"],
            target=c["text"],
            verdict=record["label"],
            verdict_format=record["sampling"]["verdict_format"],
            source=record["source"],
            id=f"{record['id']}#{c['index']}",
            meta={"item_id": record["id"], "candidate": c["index"], "sampling": record["sampling"]},
        ).to_dict()
        for c in record["candidates"]
        if c["kept"]
    ]
