"""Where a judgment states its verdict, in tokens, and the probability the judge gives each label there.

The verdict token is located exactly as training locates it (:mod:`cj2.data.packed.tokenize`): the token
holding the first character of the deciding label text, in the judgment tokenized on its own
(the prompt's ids come before it, as in training). Every other label's token is the token at the
same index after writing that label into the text and tokenizing again (:func:`verdict_token`:
the ids before it must not change, and the token must differ). The probability of each label is
the softmax of the judge's logits at that position over those label tokens only; ``mass`` is the
share of the whole vocabulary's probability they hold (how sure the judge is that a verdict
comes there at all).

A format whose labels share their first token (Arena-Hard's ``A>B`` and ``A=B`` both start with
``A``) has no single verdict token: its probabilities are not available, with that reason.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from cj2.data.packed.encoder import text_encoder
from cj2.data.packed.tokenize import verdict_token
from cj2.verdicts import get_format, parse

SHARED_TOKEN = "labels share their first token"


@dataclass(frozen=True)
class VerdictSite:
    index: int  # index of the verdict token in the judgment's ids
    ids: list[int]  # the judgment's ids (tokenized on its own, no special tokens added)
    tokens: dict[str, int]  # each label of the format -> its token id at ``index``

    @property
    def prefix(self) -> list[int]:
        """The judgment's ids before the verdict token: the context its logits are read after."""
        return self.ids[: self.index]


@functools.cache
def label_texts(format_name: str) -> dict[str, str]:
    """Each label of a format as the format writes it at a verdict's span (``A``, ``A=B``, ``C``, ``7``)."""
    fmt = get_format(format_name)
    return {label: fmt.parse(fmt.render(label)).raw for label in fmt.labels}


def locate(tokenizer, format_name: str, text: str, labels: tuple[str, ...] | None = None) -> tuple[VerdictSite | None, str]:
    """The verdict token of ``text`` and every label's token there, or (None, why not).

    ``labels`` limits the labels considered (e.g. A and B when ties are not allowed); the stated
    label is always among them.
    """
    verdict = parse(format_name, text)
    if not verdict.ok or verdict.span is None:
        return None, "unparsed"
    start, end = verdict.span
    encoder = text_encoder(tokenizer)
    [(ids, index)] = encoder.encode_locating([text], [start])
    if index is None:
        return None, "unparsed"
    wanted = [label for label in label_texts(format_name) if labels is None or label in labels or label == verdict.label]
    others = [label for label in wanted if label != verdict.label]
    rewritten = encoder.encode([text[:start] + label_texts(format_name)[label] + text[end:] for label in others])
    tokens = {verdict.label: ids[index]}
    for label, other_ids in zip(others, rewritten, strict=True):
        site, reason = verdict_token(ids, index, other_ids)
        if site is None:
            return None, SHARED_TOKEN if reason == "same_token" else reason
        tokens[label] = site[2]
    if len(set(tokens.values())) < len(tokens):
        return None, SHARED_TOKEN
    return VerdictSite(index, ids, {label: tokens[label] for label in wanted}), ""


def label_probabilities(logits: torch.Tensor, tokens: dict[str, int]) -> tuple[dict[str, float], float]:
    """(softmax over the label tokens, their share of the whole distribution) from one position's logits."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)[list(tokens.values())]
    probabilities = torch.softmax(logprobs, dim=-1).tolist()
    return dict(zip(tokens, probabilities, strict=True)), float(logprobs.exp().sum())
