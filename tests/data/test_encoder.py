"""The build's encoder gives exactly the tokenizer's ids (tiktoken's BPE core where it may, the Rust encoder otherwise)."""

from __future__ import annotations

import csv
import json
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cj2.data.packed.encoder import (
    TiktokenEncoder,
    TokenizersEncoder,
    _split_pattern,
    _tiktoken_ranks,
    text_encoder,
    token_at,
)


def api_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """The reference: the tokenizer's Python API, one call per text."""
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


@pytest.fixture(scope="module")
def encoders(qwen_tokenizer):
    fast = text_encoder(qwen_tokenizer)
    assert isinstance(fast, TiktokenEncoder)  # Qwen2.5 qualifies: the fast path is what these tests check
    return {"tiktoken": fast, "tokenizers": TokenizersEncoder(qwen_tokenizer)}


def _gpt2_byte_decoder() -> dict[str, int]:
    """ByteLevel's stand-in characters back to bytes, from transformers (not cj2's own table)."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    return {c: b for b, c in bytes_to_unicode().items()}


def test_every_token_of_the_vocabulary_encodes_as_the_api_does(qwen_tokenizer, encoders):
    decode = _gpt2_byte_decoder()
    texts = []
    for token in qwen_tokenizer.get_vocab():
        try:
            texts.append(bytes(decode[c] for c in token).decode("utf-8"))
        except (KeyError, UnicodeDecodeError):  # added tokens; tokens that are part of a character
            continue
    assert len(texts) > 140_000
    expected = [e.ids for e in qwen_tokenizer.backend_tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    assert expected[:50] == api_ids(qwen_tokenizer, texts[:50])  # the batch call is the API's ids
    assert encoders["tiktoken"].encode(texts) == expected


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_the_real_benchmark_data_encodes_as_the_api_does(qwen_tokenizer, encoders, shared_data):
    """Every text field of the real judge and knowledge sets (English, Chinese, code, maths)."""
    texts = []
    for path in sorted(shared_data.rglob("*")):
        if path.suffix == ".jsonl":
            texts += [s for line in path.read_text(encoding="utf-8").splitlines() if line.strip() for s in _strings(json.loads(line))]
        elif path.suffix == ".json":
            texts += list(_strings(json.loads(path.read_text(encoding="utf-8"))))
        elif path.suffix == ".csv":
            texts += [cell for row in csv.reader(path.open(encoding="utf-8")) for cell in row]
    assert sum(map(len, texts)) > 1_000_000
    expected = [e.ids for e in qwen_tokenizer.backend_tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    assert encoders["tiktoken"].encode(texts) == expected


# Text rich in what decides tokens: added tokens, combining marks (NFC), whitespace runs,
# contractions, digits, CJK, emoji, characters of 1-4 UTF-8 bytes.
pieces = st.sampled_from(["<|im_end|>", "<|im_start|>", "<think>", "\u0338", "\u0301", "e", "é", ">", "=", "\n", "\r\n", " ", "  ", "\t", "\u00a0", "\u3000", "'s", "'LL", "7", "2024", "中文", "😀", "Word", "?!", "\x00"])
soup = st.lists(st.one_of(pieces, st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)), max_size=16).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(soup, min_size=1, max_size=4))
@example(texts=["<|im_end|>\u0338"])  # NFC of the whole text would make ">" + U+0338 one character and lose the added token
@example(texts=["a\u0301<|im_start|>\u0301b", "", " ", "\n \n"])
def test_encode_equals_the_api(qwen_tokenizer, encoders, texts):
    expected = api_ids(qwen_tokenizer, texts)
    for encoder in encoders.values():
        assert encoder.encode(texts) == expected


@settings(max_examples=300, deadline=None)
@given(text=soup, seed=st.integers(0, 2**16))
@example(text="é verdict: [[B]]", seed=0)
@example(text="\u0065\u0301 is not NFC-normalized: [[A]]", seed=1)  # NFC shifts positions: the Rust encoder's offsets decide
def test_the_token_holding_a_character_is_the_one_the_api_offsets_give(qwen_tokenizer, encoders, text, seed):
    positions = [None, *random.Random(seed).sample(range(len(text) + 1), min(3, len(text) + 1))]
    encoding = qwen_tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    expected = [(encoding["input_ids"], None if p is None else token_at(encoding["offset_mapping"], p)) for p in positions]
    for encoder in encoders.values():
        assert encoder.encode_locating([text] * len(positions), positions) == expected


def test_tiktoken_is_refused_where_it_would_give_other_ids(qwen_tokenizer):
    spec = json.loads(qwen_tokenizer.backend_tokenizer.to_str())
    assert _split_pattern(spec) is not None and _tiktoken_ranks(spec) is not None
    merges = list(spec["model"]["merges"])
    merges[100], merges[101] = merges[101], merges[100]  # tokenizers would merge in an order tiktoken does not
    assert _tiktoken_ranks({**spec, "model": {**spec["model"], "merges": merges}}) is None
    first, *rest = spec["added_tokens"]
    normalized = [{**first, "normalized": True}, *rest]  # matched after NFC: cutting added tokens out first would differ
    assert _tiktoken_ranks({**spec, "added_tokens": normalized}) is None
    stripping = [{**first, "rstrip": True}, *rest]  # would swallow the whitespace after it
    assert _split_pattern({**spec, "added_tokens": stripping}) is None
    split, byte_level = spec["pre_tokenizer"]["pretokenizers"]
    other_regex = {**split, "pattern": {"Regex": r"\s+|\S+"}}  # not known to match alike in both regex engines
    assert _split_pattern({**spec, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [other_regex, byte_level]}}) is None
    assert _split_pattern({**spec, "normalizer": {"type": "NFKC"}}) is None
