"""Teacher-forced verdict scoring (``eval.scoring=verdict_logits``): the logits a judge gives to each
verdict label after a reference judgment, for any pairwise set, at forward-pass cost.

For every item and every order judged (both with ``eval.swap=true``) the prompt of ``eval.template``
is followed by a reference judgment whose verdict is the gold label in the shown order: the item's
own reference for that order (``reference`` / ``reference_swapped``) when it carries one, else the
verdict format's verdict-only answer (``"Choice": "Model A"``; ``{"Choice": "Model A"}`` for the
OpenCompass Choice prompt). Each sequence is tokenized exactly as training tokenizes it
(:func:`cj2.data.packed.tokenize.tokenize_batch`), which finds the verdict token (y*) and the
opposite label's token at the same place (y-). One forward pass per batch of sequences (no
generation; right padding with an attention mask; bf16 on a GPU with the output layer in fp32, fp32
on the CPU) gives the logits at the position before the verdict token, where the model predicts it:
``z`` of both labels, the log-sum-exp over the vocabulary and the argmax. They become
:class:`VerdictLogits` records.

A sequence whose verdict token cannot be located (the reference states another verdict, none, or
the two labels share a token) is not scored: it is counted and named, with the reason.
This measures the verdict token given a reference analysis, not the judge's own reasoning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from cj2.data.records import TrainingSample
from cj2.eval.core.files import EvalInputError
from cj2.eval.core.intervals import LEVEL, RESAMPLES
from cj2.eval.core.pairwise_metric import TIE, unswap
from cj2.eval.core.result import EvalResult
from cj2.eval.core.verdict_metric import DIGITS, SHOWN, VerdictLogits, verdict_intervals, verdict_metrics
from cj2.eval.judging.official_parsers import OPENCOMPASS_CHOICE
from cj2.eval.judging.pairwise import PairItem, orders, prompt_renderer, shown_messages, verdict_format_of

GENERATION, VERDICT_LOGITS = "generation", "verdict_logits"
SCORINGS = (GENERATION, VERDICT_LOGITS)
TOO_LONG = "too_long"  # longer than the model's positions


@dataclass(frozen=True)
class Unlocated:
    """A sequence that was not scored, and why (a reason of cj2.data.packed.tokenize, or ``too_long``)."""

    item: str
    swapped: bool
    reason: str


@dataclass
class ScoredSet:
    records: list[VerdictLogits]
    unlocated: list[Unlocated]
    ties: int  # tie-labelled items: no gold verdict to force, not scored
    reference: str  # which judgments were forced: "the items' own", "the verdict-only answer", or where saved records came from


def forced_format(eval_cfg) -> str:
    """The cj2.verdicts format of the forced verdict: the template's (the Choice prompt's answer is cj2_short's)."""
    from cj2.verdicts import FORMATS

    name = verdict_format_of(eval_cfg)
    name = "cj2_short" if name == OPENCOMPASS_CHOICE else name
    if name not in FORMATS or set(FORMATS[name].labels) < {"A", "B"}:
        raise EvalInputError("eval.verdict_format", f"{name!r} is not an A/B verdict format of cj2.verdicts: teacher-forced scoring needs one (e.g. cj2_cot, cj2_short)")
    return name


def forced_samples(items: Sequence[PairItem], eval_cfg) -> tuple[list[tuple[PairItem, bool]], list[TrainingSample], int]:
    """(item, swapped) and its training-format sample for every scored sequence, and the tie items skipped."""
    from cj2.verdicts import FORMATS

    verdict_format = forced_format(eval_cfg)
    messages = prompt_renderer(eval_cfg)
    keys, samples, ties = [], [], 0
    for item in items:
        if item.gold == TIE:
            ties += 1
            continue
        for swapped in orders(eval_cfg):
            gold = unswap(item.gold) if swapped else item.gold
            reference = item.reference_swapped if swapped else item.reference
            if item.reference and not reference:
                raise EvalInputError("eval.fields.reference_swapped", f"item {item.id!r} has a reference judgment for the original order only; eval.swap=true needs one for the swapped order too")
            keys.append((item, swapped))
            samples.append(TrainingSample(messages=shown_messages(item, swapped, messages, eval_cfg), target=reference or FORMATS[verdict_format].render(gold),
                                          verdict=gold, verdict_format=verdict_format, id=f"{item.id}/{'swapped' if swapped else 'original'}"))
    return keys, samples, ties


def load_model(eval_cfg, dtype: str | None = None):
    """(model, tokenizer) of ``eval.model`` on this process's device: bf16 on a GPU, fp32 on the CPU
    (``dtype`` chooses), the output layer in fp32 either way (:mod:`cj2.eval.judging.fp32_head`)."""
    from cj2.eval.judging.fp32_head import with_fp32_head
    from cj2.eval.judging.inference import engine_options
    from cj2.placement import compute_device
    from cj2.sample.engines.hf_loading import load_causal_lm

    if eval_cfg.engine != "hf":
        raise EvalInputError("eval.engine", f"eval.scoring={VERDICT_LOGITS} reads logits from the weights: use eval.engine=hf (an HF dir or a .gguf file), not {eval_cfg.engine!r}")
    device, options = compute_device(), engine_options(eval_cfg)
    dtype = dtype or ("bfloat16" if device.type == "cuda" else "float32")
    model, tokenizer = load_causal_lm(options["model"], options.get("gguf_file"), device=str(device), dtype=dtype)
    return with_fp32_head(model), tokenizer


def label_logits(model, tokenized: Sequence, batch_size: int, pad_id: int, on_batch: Callable[[int], None] | None = None) -> list[tuple[float, float, float, int]]:
    """(z[y*], z[y-], logsumexp, argmax id) at the position before each sequence's verdict token.

    Sequences are batched by length (little padding), right-padded with an attention mask (the
    real tokens' positions and attention are those of the sequence alone), and the model's head
    runs only at the batch's verdict positions (``logits_to_keep``).
    """
    import torch

    from cj2.placement import compute_device, to_device

    device = compute_device()
    out: list[tuple[float, float, float, int] | None] = [None] * len(tokenized)
    by_length = sorted(range(len(tokenized)), key=lambda i: -len(tokenized[i].input_ids))
    for start in range(0, len(by_length), batch_size):
        batch = [tokenized[i] for i in by_length[start : start + batch_size]]
        width = max(len(t.input_ids) for t in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, t in enumerate(batch):
            ids[row, : len(t.input_ids)] = torch.tensor(t.input_ids)
            mask[row, : len(t.input_ids)] = 1
        positions = torch.tensor([t.verdict_index - 1 for t in batch])
        keep = torch.unique(positions)  # sorted: the column of each row's position is its rank
        with torch.inference_mode():
            logits = model(**to_device({"input_ids": ids, "attention_mask": mask, "logits_to_keep": keep}, device)).logits
        rows = logits[torch.arange(len(batch), device=logits.device), torch.searchsorted(keep, positions).to(logits.device)].float()
        labels = torch.tensor([[t.label_id, t.opposite_id] for t in batch], device=rows.device)
        z, lse, top = rows.gather(1, labels).tolist(), torch.logsumexp(rows, dim=-1).tolist(), rows.argmax(dim=-1).tolist()
        for row in range(len(batch)):
            out[by_length[start + row]] = (z[row][0], z[row][1], lse[row], top[row])
        if on_batch is not None:
            on_batch(len(batch))
    return out  # type: ignore[return-value]


def score_items(items: Sequence[PairItem], eval_cfg, model, tokenizer) -> ScoredSet:
    """Every item in every order judged, tokenized as training does and scored in batched forward passes."""
    from cj2.data.packed.tokenize import tokenize_batch
    from cj2.eval.judging.inference import progress_bar

    keys, samples, ties = forced_samples(items, eval_cfg)
    limit = getattr(model.config, "max_position_embeddings", None)
    located, unlocated = [], []
    for key, (tokenized, reason) in zip(keys, tokenize_batch(samples, tokenizer), strict=True):
        if reason is None and limit is not None and len(tokenized.input_ids) > limit:
            reason = TOO_LONG
        if reason is not None:
            unlocated.append(Unlocated(key[0].id, key[1], reason))
        else:
            located.append((key, tokenized))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    bar, task = progress_bar("verdict logits", len(located), enabled=eval_cfg.progress)
    with bar:
        logits = label_logits(model, [t for _, t in located], eval_cfg.verdict_batch, pad_id, lambda n: bar.advance(task, n))
    records = [VerdictLogits.from_logits(item.id, unswap(item.gold) if swapped else item.gold, swapped, *numbers, tokenized.label_id, tokenized.opposite_id,
                                         group=item.bon_group or None, question=item.question_id or None, subset=item.group or None)
               for ((item, swapped), tokenized), numbers in zip(located, logits, strict=True)]
    print(f"verdict logits: {len(records)} sequence(s) scored, {len(unlocated)} without a located verdict, {ties} tie item(s) skipped", flush=True)
    return ScoredSet(records, unlocated, ties, "the items' own" if any(item.reference for item in items) else "the verdict-only answer")


def metric_rows(records: Sequence[VerdictLogits], resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> tuple[list[dict], dict]:
    """Table rows (per subset, then ``all``) with each metric and its interval, and the intervals as JSON."""
    subsets = sorted({r.subset for r in records if r.subset is not None})
    parts = [(s, [r for r in records if r.subset == s]) for s in subsets] + [("all", list(records))]
    rows, intervals = [], {}
    for name, part in parts:
        found = verdict_intervals(part, resamples, seed, level)
        intervals[name] = {metric: interval.as_dict() for metric, interval in found.items()}
        rows.append({"subset": name, "records": len(part), **{m: found[m].text(DIGITS.get(m, 1)) if m in found else "-" for m in SHOWN}})
    return rows, intervals


def verdict_result(name: str, scored: ScoredSet, records_path: str, resamples: int = RESAMPLES, level: float = LEVEL) -> EvalResult:
    """The :class:`EvalResult` of a scored set: metrics with intervals, the unlocated sequences named."""
    metrics = verdict_metrics(scored.records)
    rows, intervals = metric_rows(scored.records, resamples, level=level)
    reasons = Counter(u.reason for u in scored.unlocated)
    notes = [f"teacher-forced: the verdict token is scored after a reference judgment ({scored.reference}), not the judge's own reasoning; "
             f"intervals: {100 * level:.0f}% with the questions resampled"]
    if scored.unlocated:
        named = ", ".join(f"{u.item} ({'swapped' if u.swapped else 'original'}: {u.reason})" for u in scored.unlocated[:10])
        more = f" and {len(scored.unlocated) - 10} more (OUT.json lists all)" if len(scored.unlocated) > 10 else ""
        notes.append(f"{len(scored.unlocated)} sequence(s) without a located verdict, not scored: {named}{more}")
    if scored.ties:
        notes.append(f"{scored.ties} item(s) with a tie label are not scored (no verdict to force)")
    accuracy = metrics["accuracy"] if metrics["accuracy"] is not None else 0.0
    out = {"benchmark": name, "scoring": VERDICT_LOGITS, "accuracy": accuracy, "verdict": metrics, "intervals": intervals,
           "interval_level": level, "resamples": resamples, "records_file": records_path, "ties_skipped": scored.ties,
           "unlocated": {"count": len(scored.unlocated), "reasons": dict(reasons), "sequences": [asdict(u) for u in scored.unlocated]}}
    subsets = metrics.get("subsets", {})
    return EvalResult(benchmark=name, headline_name="accuracy", headline=accuracy, metrics=out, rows=rows,
                      group_scores={s: m["accuracy"] for s, m in subsets.items()} or {"all": accuracy},
                      unparsed=len(scored.unlocated), total=len(scored.records) + len(scored.unlocated), notes=notes)
