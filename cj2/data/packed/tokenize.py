"""Training samples to token ids: the prompt (chat template), the judgment, and its verdict token.

Only the judgment and its closing ``<|im_end|>`` are learned (loss mask 1); the prompt is
context. When the sample carries a verdict, the verdict token is located in the tokenized
judgment: the token containing the first character of the deciding label text (the ``A`` of
``"Choice": "Model A"``). Its id is y*; y- is the id at the same index after writing the
opposite label into the text and tokenizing again, which stays right under BPE merges. A sample
whose verdict cannot be located this way is kept for SFT only, with the reason counted.

Samples are tokenized in batches through the build's encoder (:mod:`cj2.data.packed.encoder`: the
tokenizer's ids, without a Python tokenizer call per text), and the text a batch's prompts
share at both ends (system prompt, template instructions, the generation prompt) is tokenized
once per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from cj2.data.packed.chat_text import chat_text
from cj2.data.packed.encoder import encode_prompts, text_encoder
from cj2.data.records import TrainingSample

# Why a sample with a verdict was kept for SFT only (counted in the packing stats).
SFT_ONLY_REASONS = ("unparsed", "verdict_mismatch", "no_opposite", "prefix_changed", "same_token")


@dataclass
class TokenizedSample:
    input_ids: list[int]
    loss_mask: list[int]  # 1 where the token is learned (judgment + end-of-turn)
    verdict_index: int = -1  # index in input_ids of the verdict token; -1: SFT only
    label_id: int = -1  # y*
    opposite_id: int = -1  # y-
    weight: float = 1.0


def verdict_site(target: str, verdict_format: str, expected_label: str) -> tuple[tuple[int, int, str] | None, str | None]:
    """((start, end) of the deciding label text in ``target``, the opposite label text), or (None, reason)."""
    from cj2.verdicts import FORMATS, parse

    verdict = parse(verdict_format, target)
    if not verdict.ok or verdict.span is None:
        return None, "unparsed"
    if verdict.label != expected_label:
        return None, "verdict_mismatch"
    start, end = verdict.span
    opposite = FORMATS[verdict_format].opposite(target[start:end])
    if opposite is None:
        return None, "no_opposite"
    return (start, end, opposite), None


def verdict_token(ids: list[int], index: int | None, flipped: list[int]) -> tuple[tuple[int, int, int] | None, str | None]:
    """(index of the verdict token, y*, y-) from the target's ids, the index of the token holding
    the label's first character, and the flipped target's ids."""
    if index is None:
        return None, "unparsed"
    if len(flipped) <= index or flipped[:index] != ids[:index]:
        return None, "prefix_changed"
    if flipped[index] == ids[index]:
        return None, "same_token"
    return (index, ids[index], flipped[index]), None


def tokenize_batch(samples: list[TrainingSample], tokenizer) -> list[tuple[TokenizedSample, str | None]]:
    """Each sample's ids and loss mask, and why it is SFT-only when it has a verdict we cannot use.

    A sample's loss weight is ``sample.meta["weight"]`` (default 1).
    """
    if not samples:
        return []
    encoder = text_encoder(tokenizer)
    render = chat_text(tokenizer)
    prompts = encode_prompts(tokenizer, [render(s.messages) for s in samples])
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    sites, reasons = zip(*(verdict_site(s.target, s.verdict_format, s.verdict) if s.verdict is not None else (None, None) for s in samples), strict=True)
    targets = encoder.encode_locating([s.target for s in samples], [site[0] if site else None for site in sites])
    located = [i for i, site in enumerate(sites) if site is not None]
    flipped = encoder.encode([samples[i].target[: sites[i][0]] + sites[i][2] + samples[i].target[sites[i][1] :] for i in located])
    flipped_of = dict(zip(located, flipped, strict=True))
    out = []
    for i, (sample, prompt, (target, verdict_at)) in enumerate(zip(samples, prompts, targets, strict=True)):
        if not prompt:
            raise ValueError(f"sample {sample.id!r}: empty prompt (the first token must be context, never a target)")
        tokenized = TokenizedSample(
            input_ids=[*prompt, *target, end_of_turn],
            loss_mask=[0] * len(prompt) + [1] * (len(target) + 1),
            weight=float(sample.meta.get("weight", 1.0)),
        )
        reason = reasons[i]
        if i in flipped_of:
            verdict, reason = verdict_token(target, verdict_at, flipped_of[i])
            if verdict is not None:
                index, tokenized.label_id, tokenized.opposite_id = verdict
                tokenized.verdict_index = len(prompt) + index
        out.append((tokenized, reason))
    return out


def tokenize_sample(sample: TrainingSample, tokenizer) -> tuple[TokenizedSample, str | None]:
    """:func:`tokenize_batch` of one sample."""
    return tokenize_batch([sample], tokenizer)[0]


def prompt_lengths(prompts: list[list[dict]], tokenizer) -> list[int]:
    """Tokens of each chat prompt as a sample's prompt is tokenized (chat template, generation prompt)."""
    render = chat_text(tokenizer)
    return [len(ids) for ids in encode_prompts(tokenizer, [render(messages) for messages in prompts])] if prompts else []


def text_lengths(texts: list[str], tokenizer) -> list[int]:
    """Tokens of each text, as a judgment is tokenized."""
    return [len(ids) for ids in text_encoder(tokenizer).encode(texts)] if texts else []
