"""Turn a GGUF checkpoint into a safetensors HF dir that any server or engine can load.

``transformers serve`` 5.24 crashes on a GGUF (its config has ``architectures=None``) and
``save_pretrained`` refuses a GGUF-loaded model, so the weights are dequantized once and copied
into a fresh model of the same architecture. ``do_sample: true`` goes into the generation config
because servers that copy only ``temperature`` from a request otherwise decode greedily.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def convert_gguf(gguf_path: str, out_dir: str) -> Path:
    import transformers

    from cj2.sample.engines.hf_loading import load_causal_lm

    model, tokenizer = load_causal_lm(gguf_path)
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    architecture = type(model).__name__
    config.architectures = [architecture]
    plain = getattr(transformers, architecture)(config)
    plain.load_state_dict(model.state_dict())
    plain.generation_config = model.generation_config
    plain.generation_config.do_sample = True
    plain.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return Path(out_dir)


def default_cache_root() -> Path:
    return Path(os.environ.get("CJ2_CACHE", Path(tempfile.gettempdir()) / "cj2-cache"))


def converted_dir(gguf_path: str, cache_root: str | None = None) -> Path:
    """The converted dir for ``gguf_path`` under ``cache_root``, converting on first use.

    The cache key is the file's name, size and mtime; the dir appears by an atomic rename, so
    concurrent callers (parallel test sessions) never see a half-written one.
    """
    src = Path(gguf_path)
    stat = src.stat()
    key = hashlib.sha256(f"{src.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    root = Path(cache_root) if cache_root else default_cache_root()
    target = root / f"{src.stem}-{key}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    try:
        convert_gguf(str(src), str(tmp))
        os.replace(tmp, target)
    except OSError:
        if not target.is_dir():  # not a lost race: a real failure
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
