"""Model weights by Hugging Face tensor name: random (seeded) float32 arrays of a config's shapes.

Names and layouts are those of a Llama checkpoint: `model.embed_tokens.weight` [vocab, hidden],
`model.layers.{i}.self_attn.{q,k,v,o}_proj.weight` and `model.layers.{i}.mlp.{gate,up,down}_proj
.weight` as [out, in] (torch Linear), `model.layers.{i}.{input,post_attention}_layernorm.weight`,
`model.norm.weight`, and `lm_head.weight` [vocab, hidden] unless the embeddings are tied.
"""
from __future__ import annotations

import numpy as np

__all__ = ["tensor_shapes", "random_weights", "layer_weights"]

_PROJ = {"wq": "self_attn.q_proj", "wk": "self_attn.k_proj", "wv": "self_attn.v_proj",
         "wo": "self_attn.o_proj", "w1": "mlp.gate_proj", "w3": "mlp.up_proj",
         "w2": "mlp.down_proj"}
_NORM = {"norm1": "input_layernorm", "norm2": "post_attention_layernorm"}


def tensor_shapes(cfg) -> dict:
    """{Hugging Face name: shape} of every weight of the model."""
    h, q = cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim
    kv, i = cfg.num_key_value_heads * cfg.head_dim, cfg.intermediate_size
    out = {"model.embed_tokens.weight": (cfg.vocab_size, h), "model.norm.weight": (h,)}
    per = {"wq": (q, h), "wk": (kv, h), "wv": (kv, h), "wo": (h, q), "w1": (i, h), "w3": (i, h),
           "w2": (h, i)}
    for layer in range(cfg.num_hidden_layers):
        pre = f"model.layers.{layer}."
        out.update({pre + _PROJ[k] + ".weight": s for k, s in per.items()})
        out.update({pre + n + ".weight": (h,) for n in _NORM.values()})
    if not cfg.tie_word_embeddings:
        out["lm_head.weight"] = (cfg.vocab_size, h)
    return out


def random_weights(cfg, seed: int = 0) -> dict:
    """Seeded float32 weights: matrices N(0, 1/fan_in), embeddings N(0, 1), norms near 1."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in tensor_shapes(cfg).items():
        if len(shape) == 1:
            a = 1 + 0.1 * rng.standard_normal(shape)
        elif "embed_tokens" in name:
            a = rng.standard_normal(shape)
        else:
            a = rng.standard_normal(shape) / np.sqrt(shape[1])
        out[name] = a.astype(np.float32)
    return out


def layer_weights(weights: dict, layer: int) -> dict:
    """One layer's weights as kernels/program/block.py names them: x @ W matrices [in, out]."""
    pre = f"model.layers.{layer}."
    out = {k: np.ascontiguousarray(weights[pre + p + ".weight"].T) for k, p in _PROJ.items()}
    out.update({k: weights[pre + n + ".weight"] for k, n in _NORM.items()})
    return out
