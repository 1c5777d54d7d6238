"""Hugging Face style checkpoints: a folder with `config.json` and `*.safetensors` files.

    cfg, weights = load_checkpoint("path/to/model")          # float32 arrays by tensor name
    save_checkpoint("out/model", cfg, weights, dtype="float16")

The safetensors package reads and writes the files. Every tensor the model needs (llm/weights.py
names them) must be present with its shape; `lm_head.weight` is optional when the embeddings
are tied, and tensors the model does not use (e.g. rotary caches some exports carry) are
ignored. Weights are converted to float32 on load; bfloat16 files need the ml_dtypes package
(installed with the `test` extra), which NumPy uses for that type.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ConfigError
from chipemu.llm.config import ModelConfig
from chipemu.llm.weights import tensor_shapes

__all__ = ["load_checkpoint", "save_checkpoint"]


def _safetensors():
    try:
        import safetensors.numpy as st
    except ImportError:                        # a dependency; a broken install says so
        raise ConfigError("reading checkpoints needs the safetensors package "
                          "(pip install safetensors)") from None
    return st


def load_checkpoint(folder, *, name: str | None = None):
    """(ModelConfig, {tensor name: float32 array}) of the checkpoint in `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"folder={str(folder)!r} is not a directory; allowed: a checkpoint "
                          f"folder with config.json and *.safetensors")
    cfg = ModelConfig.from_hf(folder, name=name or folder.name)
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ConfigError(f"{str(folder)!r} holds no *.safetensors file")
    st, tensors = _safetensors(), {}
    for f in files:
        try:
            tensors.update(st.load_file(str(f)))
        except Exception as exc:               # bf16 without ml_dtypes, a truncated file, ...
            raise ConfigError(f"cannot read {f.name}: {exc} (bfloat16 files need ml_dtypes)") \
                from None
    want = tensor_shapes(cfg)
    missing = [n for n in want if n not in tensors]
    if missing:
        raise ConfigError(f"checkpoint {str(folder)!r} lacks {len(missing)} tensors the model "
                          f"needs, e.g. {', '.join(missing[:3])}")
    bad = [f"{n} {tuple(tensors[n].shape)} (want {s})" for n, s in want.items()
           if tuple(tensors[n].shape) != s]
    if bad:
        raise ConfigError(f"checkpoint {str(folder)!r} has tensors of the wrong shape: "
                          f"{'; '.join(bad[:3])}")
    return cfg, {n: np.asarray(tensors[n], np.float32) for n in want}


def save_checkpoint(folder, cfg: ModelConfig, weights: dict, *, dtype: str = "float32"):
    """Write config.json and model.safetensors (weights as `dtype`: float32 or float16) into
    `folder` (created); returns the folder."""
    dtype = args.choice("dtype", dtype, ("float32", "float16"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(cfg.to_hf(), indent=2))
    want = tensor_shapes(cfg)
    missing = [n for n in want if n not in weights]
    if missing:
        raise ConfigError(f"weights lack {', '.join(missing[:3])}")
    _safetensors().save_file({n: np.ascontiguousarray(weights[n], dtype) for n in want},
                             str(folder / "model.safetensors"))
    return folder
