"""A training sample to token ids: the prompt (chat template), the judgment, and its verdict token.

Only the judgment and its closing ``<|im_end|>`` are learned (loss mask 1); the prompt is
context. When the sample carries a verdict, the verdict token is located in the tokenized
judgment: the token containing the first character of the deciding label text (the ``A`` of
``"Choice": "Model A"``). Its id is y*; y- is the id at the same index after writing the
opposite label into the text and tokenizing again, which stays right under BPE merges. A sample
whose verdict cannot be located this way is kept for SFT only, with the reason counted.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _target_ids(tokenizer, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return enc["input_ids"], enc["offset_mapping"]


def locate_verdict(
    tokenizer, target: str, verdict_format: str, expected_label: str
) -> tuple[tuple[int, int, int] | None, str | None]:
    """(index of the verdict token in the tokenized target, y*, y-), or (None, reason)."""
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
    ids, offsets = _target_ids(tokenizer, target)
    index = next((i for i, (a, b) in enumerate(offsets) if a <= start < b), None)
    if index is None:
        return None, "unparsed"
    flipped, _ = _target_ids(tokenizer, target[:start] + opposite + target[end:])
    if len(flipped) <= index or flipped[:index] != ids[:index]:
        return None, "prefix_changed"
    if flipped[index] == ids[index]:
        return None, "same_token"
    return (index, ids[index], flipped[index]), None


def tokenize_sample(sample: TrainingSample, tokenizer) -> tuple[TokenizedSample, str | None]:
    """The sample's ids and loss mask, and why it is SFT-only when it has a verdict we cannot use.

    The sample's loss weight is ``sample.meta["weight"]`` (default 1).
    """
    prompt = tokenizer.apply_chat_template(sample.messages, add_generation_prompt=True, tokenize=True)
    if not isinstance(prompt, list):  # transformers 5 returns a BatchEncoding
        prompt = prompt["input_ids"]
    if not prompt:
        raise ValueError(f"sample {sample.id!r}: empty prompt (the first token must be context, never a target)")
    target, _ = _target_ids(tokenizer, sample.target)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    out = TokenizedSample(
        input_ids=[*prompt, *target, end_of_turn],
        loss_mask=[0] * len(prompt) + [1] * (len(target) + 1),
        weight=float(sample.meta.get("weight", 1.0)),
    )
    if sample.verdict is None:
        return out, None
    located, reason = locate_verdict(tokenizer, sample.target, sample.verdict_format, sample.verdict)
    if located is None:
        return out, reason
    index, out.label_id, out.opposite_id = located
    out.verdict_index = len(prompt) + index
    return out, None
