"""Training samples to token ids: the prompt (chat template), the judgment, and its verdict token.

Only the judgment and its closing ``<|im_end|>`` are learned (loss mask 1); the prompt is
context. When the sample carries a verdict, the verdict token is located in the tokenized
judgment: the token containing the first character of the deciding label text (the ``A`` of
``"Choice": "Model A"``). Its id is y*; y- is the id at the same index after writing the
opposite label into the text and tokenizing again, which stays right under BPE merges. A sample
whose verdict cannot be located this way is kept for SFT only, with the reason counted.

Samples are tokenized in batches through the Rust tokenizer: per-sample calls through the
Python tokenizer cost more than the tokenization itself. Prompts need no offsets, and the text a
batch's prompts share at both ends (system prompt, template instructions, the generation
prompt) is tokenized once per batch (:func:`encode_prompts`).
"""

from __future__ import annotations

import json
import os.path
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


def verdict_token(ids: list[int], offsets: list[tuple[int, int]], flipped: list[int], start: int) -> tuple[tuple[int, int, int] | None, str | None]:
    """(index of the verdict token, y*, y-) from the target's and the flipped target's ids."""
    index = next((i for i, (a, b) in enumerate(offsets) if a <= start < b), None)
    if index is None:
        return None, "unparsed"
    if len(flipped) <= index or flipped[:index] != ids[:index]:
        return None, "prefix_changed"
    if flipped[index] == ids[index]:
        return None, "same_token"
    return (index, ids[index], flipped[index]), None


# Pre-tokenizer regexes (Qwen2 / Qwen2.5, Llama 3) under which a text cut right after a newline,
# before a character that is not whitespace, tokenizes as its two pieces do: the pre-token that
# holds the newline ends there either way (a whitespace run can only continue with whitespace:
# "\n \n" is one pre-token, so the next character must not be any), matching restarts at the
# next character (the regex looks ahead, never behind), and NFC composes nothing with a
# newline. Python's isspace() covers every regex \s character. Property-tested against the
# tokenizer's own API.
_LINE_CUT_SAFE_SPLITS = {
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}
_line_cuts_safe: dict[int, bool] = {}


def line_cuts_are_safe(tokenizer) -> bool:
    """Whether ``ids(a + b) == ids(a) + ids(b)`` when ``a`` ends with a newline and ``b`` starts with a non-space character."""
    backend = tokenizer.backend_tokenizer
    if id(backend) not in _line_cuts_safe:
        spec = json.loads(backend.to_str())
        pre = spec.get("pre_tokenizer") or {}
        steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
        _line_cuts_safe[id(backend)] = (
            (spec.get("normalizer") or {"type": "NFC"}).get("type") == "NFC"
            and len(steps) == 2
            and steps[0].get("type") == "Split" and steps[0].get("behavior") == "Isolated" and not steps[0].get("invert")
            and steps[0].get("pattern", {}).get("Regex") in _LINE_CUT_SAFE_SPLITS
            and steps[1].get("type") == "ByteLevel" and not steps[1].get("use_regex", True) and not steps[1].get("add_prefix_space")
            # lstrip / rstrip would let a special token swallow the newline on the other side of a cut
            and not any(t.get("lstrip") or t.get("rstrip") for t in spec.get("added_tokens", []))
        )
    return _line_cuts_safe[id(backend)]


def _line_start_in_head(common: str) -> int:
    """The longest prefix of ``common`` that ends with a newline followed (inside ``common``) by a non-space character."""
    p = len(common) - 1
    while (p := common.rfind("\n", 0, p)) >= 0:
        if not common[p + 1].isspace():
            return p + 1
    return 0


def _line_start_in_tail(common: str) -> int:
    """The length of the longest suffix of ``common`` that starts, after a newline inside ``common``, with a non-space character."""
    j = common.find("\n")
    while 0 <= j < len(common) - 1:
        if not common[j + 1].isspace():
            return len(common) - j - 1
        j = common.find("\n", j + 1)
    return 0


def encode_prompts(tokenizer, texts: list[str]) -> list[list[int]]:
    """The ids of each text (no special tokens added), as ``tokenizer(text)`` gives them.

    Where :func:`line_cuts_are_safe`, the line-aligned head and tail all texts share are
    tokenized once and only the middles go through the tokenizer.
    """
    encode = tokenizer.backend_tokenizer.encode_batch_fast  # no offsets: prompts do not need them
    head = tail = 0
    if len(texts) > 1 and line_cuts_are_safe(tokenizer):
        head = _line_start_in_head(os.path.commonprefix(texts))
        tail = _line_start_in_tail(os.path.commonprefix([t[::-1] for t in texts])[::-1])
        if head + tail > min(map(len, texts)):
            head = tail = 0
    if not head and not tail:
        return [e.ids for e in encode(texts, add_special_tokens=False)]
    first = texts[0]
    head_ids, tail_ids = (e.ids for e in encode([first[:head], first[len(first) - tail :]], add_special_tokens=False))
    middles = encode([t[head : len(t) - tail] for t in texts], add_special_tokens=False)
    return [head_ids + m.ids + tail_ids for m in middles]


def tokenize_batch(samples: list[TrainingSample], tokenizer) -> list[tuple[TokenizedSample, str | None]]:
    """Each sample's ids and loss mask, and why it is SFT-only when it has a verdict we cannot use.

    A sample's loss weight is ``sample.meta["weight"]`` (default 1).
    """
    if not samples:
        return []
    backend = tokenizer.backend_tokenizer  # the same ids as tokenizer(...), without a BatchEncoding per text
    encode = backend.encode_batch
    prompts = encode_prompts(tokenizer, [tokenizer.apply_chat_template(s.messages, add_generation_prompt=True, tokenize=False) for s in samples])
    targets = encode([s.target for s in samples], add_special_tokens=False)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    sites, reasons = zip(*(verdict_site(s.target, s.verdict_format, s.verdict) if s.verdict is not None else (None, None) for s in samples), strict=True)
    located = [i for i, site in enumerate(sites) if site is not None]
    flipped = encode([samples[i].target[: sites[i][0]] + sites[i][2] + samples[i].target[sites[i][1] :] for i in located], add_special_tokens=False)
    flipped_of = dict(zip(located, flipped, strict=True))
    out = []
    for i, (sample, prompt, target) in enumerate(zip(samples, prompts, targets, strict=True)):
        if not prompt:
            raise ValueError(f"sample {sample.id!r}: empty prompt (the first token must be context, never a target)")
        tokenized = TokenizedSample(
            input_ids=[*prompt, *target.ids, end_of_turn],
            loss_mask=[0] * len(prompt) + [1] * (len(target.ids) + 1),
            weight=float(sample.meta.get("weight", 1.0)),
        )
        reason = reasons[i]
        if i in flipped_of:
            verdict, reason = verdict_token(target.ids, target.offsets, flipped_of[i].ids, sites[i][0])
            if verdict is not None:
                index, tokenized.label_id, tokenized.opposite_id = verdict
                tokenized.verdict_index = len(prompt) + index
        out.append((tokenized, reason))
    return out


def tokenize_sample(sample: TrainingSample, tokenizer) -> tuple[TokenizedSample, str | None]:
    """:func:`tokenize_batch` of one sample."""
    return tokenize_batch([sample], tokenizer)[0]
