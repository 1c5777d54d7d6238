"""Model configurations: a decoder-only transformer of the Llama / Mistral family.

    cfg = ModelConfig.preset("llama-3.1-8b")                 # built in, with its source
    cfg = ModelConfig.from_hf("path/to/config.json")         # a Hugging Face config (or a dict)
    cfg.block_shape(), cfg.parameters(), cfg.weight_bytes("mxint4")

Field names are Hugging Face's (`hidden_size`, `num_key_value_heads`, ...). From a config.json the
keys the model family uses are read and the rest ignored; a missing `head_dim` is hidden_size /
num_attention_heads and a missing `num_key_value_heads` is num_attention_heads, as in the
transformers library. Every value is checked (ConfigError naming the key, the value and what is
allowed).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from chipemu.emulator import args
from chipemu.emulator.errors import ConfigError
from chipemu.emulator.numerics.formats import get_format
from chipemu.kernels.program.block import BlockShape

__all__ = ["ModelConfig", "PRESETS"]

_INTS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
         "num_key_value_heads", "head_dim", "vocab_size", "max_position_embeddings")


@dataclass(frozen=True)
class ModelConfig:
    """One decoder-only model's shape (see the module docstring); `source` says where the
    numbers come from."""
    name: str
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    vocab_size: int
    max_position_embeddings: int
    rope_theta: float = 500000.0
    rms_norm_eps: float = 1e-5
    tie_word_embeddings: bool = False
    source: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"name={args.show(self.name)}; allowed: a non-empty string")
        for key in _INTS:
            args.integer(key, getattr(self, key), 1, error=ConfigError)
        args.real("rope_theta", self.rope_theta, 1.0, 1e12)
        args.real("rms_norm_eps", self.rms_norm_eps, 0.0, 1.0)
        args.boolean("tie_word_embeddings", self.tie_word_embeddings)
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError(f"num_attention_heads={self.num_attention_heads} is not a "
                              f"multiple of num_key_value_heads={self.num_key_value_heads}; "
                              f"allowed: grouped-query attention with whole groups")
        if self.head_dim % 2:
            raise ConfigError(f"head_dim={self.head_dim}; allowed: an even number (RoPE pairs "
                              f"i with i + head_dim/2)")

    # ---- construction ----
    @classmethod
    def preset(cls, name: str) -> "ModelConfig":
        """A built-in model: one of PRESETS."""
        return PRESETS[args.choice("model", name, tuple(PRESETS))]

    @classmethod
    def from_hf(cls, config, name: str | None = None) -> "ModelConfig":
        """From a Hugging Face config: a config.json path, a folder holding one, or its dict."""
        source = "a dict"
        if not isinstance(config, dict):
            path = Path(config)
            if path.is_dir():
                path = path / "config.json"
            try:
                config = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ConfigError(f"config={str(path)!r}: cannot read a JSON config ({exc})") \
                    from None
            source = str(path)
            name = name or path.parent.name
        if not isinstance(config, dict):
            raise ConfigError(f"config holds {type(config).__name__}; allowed: a JSON object")
        need = [k for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                            "num_attention_heads", "vocab_size") if k not in config]
        if need:
            raise ConfigError(f"config ({source}) lacks {', '.join(need)}; a decoder-only "
                              f"model needs them (Hugging Face names)")
        heads = config["num_attention_heads"]
        hd = config.get("head_dim")
        if hd is None:
            if not isinstance(heads, int) or heads < 1 or config["hidden_size"] % heads:
                raise ConfigError(f"config ({source}) has no head_dim and hidden_size="
                                  f"{config['hidden_size']} is not a multiple of "
                                  f"num_attention_heads={heads}")
            hd = config["hidden_size"] // heads
        kw = {k: config[k] for k in ("rope_theta", "rms_norm_eps", "tie_word_embeddings")
              if config.get(k) is not None}
        return cls(name=name or config.get("model_type", "model"),
                   hidden_size=config["hidden_size"],
                   intermediate_size=config["intermediate_size"],
                   num_hidden_layers=config["num_hidden_layers"],
                   num_attention_heads=heads,
                   num_key_value_heads=config.get("num_key_value_heads") or heads,
                   head_dim=hd, vocab_size=config["vocab_size"],
                   max_position_embeddings=config.get("max_position_embeddings", 4096),
                   source=f"Hugging Face config ({source})", **kw)

    def to_hf(self) -> dict:
        """The Hugging Face config.json keys of this model (what from_hf reads back)."""
        d = asdict(self)
        d.pop("name"), d.pop("source")
        return dict(d, model_type="llama", architectures=["LlamaForCausalLM"])

    # ---- derived figures ----
    def block_shape(self) -> BlockShape:
        """The shape of one decoder layer (kernels/program/block.py)."""
        return BlockShape(self.hidden_size, self.intermediate_size, self.num_attention_heads,
                          self.num_key_value_heads, self.head_dim, float(self.rope_theta),
                          float(self.rms_norm_eps))

    def layer_parameters(self) -> int:
        """Weights of one layer: the q, k, v, o projections, the MLP's three, the two norms."""
        h, q = self.hidden_size, self.num_attention_heads * self.head_dim
        kv = self.num_key_value_heads * self.head_dim
        return h * q + 2 * h * kv + q * h + 3 * h * self.intermediate_size + 2 * h

    def parameters(self) -> int:
        """All weights: embedding, layers, final norm, LM head (none of its own when tied)."""
        emb = self.vocab_size * self.hidden_size
        return (emb + self.num_hidden_layers * self.layer_parameters() + self.hidden_size
                + (0 if self.tie_word_embeddings else emb))

    def weight_bytes(self, fmt: str = "mxint8") -> int:
        """Bytes of all weights stored in `fmt` (codes and shared scales: its storage bits)."""
        return _nbytes(self.parameters(), fmt)

    def kv_bytes_per_token(self, fmt: str = "mxint8") -> int:
        """KV-cache bytes one token adds over all layers, in `fmt`."""
        return _nbytes(2 * self.num_hidden_layers * self.num_key_value_heads * self.head_dim, fmt)


def _nbytes(n, fmt):
    return int(-(-n * get_format(fmt).storage_bits // 8))


_HF = "Hugging Face config.json of {} (research: llm-serving.md, model shapes)"

PRESETS = {c.name: c for c in (
    ModelConfig("llama-3.2-1b", 2048, 8192, 16, 32, 8, 64, 128256, 131072, 500000.0, 1e-5, True,
                _HF.format("meta-llama/Llama-3.2-1B")),
    ModelConfig("llama-3.2-3b", 3072, 8192, 28, 24, 8, 128, 128256, 131072, 500000.0, 1e-5,
                True, _HF.format("meta-llama/Llama-3.2-3B")),
    ModelConfig("llama-3.1-8b", 4096, 14336, 32, 32, 8, 128, 128256, 131072, 500000.0, 1e-5,
                False, _HF.format("meta-llama/Llama-3.1-8B")),
    ModelConfig("mistral-7b", 4096, 14336, 32, 32, 8, 128, 32768, 32768, 1000000.0, 1e-5, False,
                _HF.format("mistralai/Mistral-7B-v0.3")),
    ModelConfig("llama-3.1-70b", 8192, 28672, 80, 64, 8, 128, 128256, 131072, 500000.0, 1e-5,
                False, _HF.format("meta-llama/Llama-3.1-70B")),
    ModelConfig("tiny", 64, 128, 2, 2, 1, 64, 256, 256, 10000.0, 1e-5, True,
                "a test model: the smallest shapes the tiny device runs (head_dim = its 64 "
                "array rows)"),
)}
