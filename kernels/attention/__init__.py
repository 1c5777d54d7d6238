"""attention: prefill and decode attention with a KV cache, masks that skip work, GQA
(docs/attention.md).

Modules: api (attention), cache (KVCache and its decode step), placed (a KV cache on a card:
its DIMC cells, first fit, place_kv_cache), plan, data, params (the tile parameter layouts, by
name), tile (Numba twin of csrc/kernels/attention/tile.c), ref (the NumPy reference), run (CLI
and demo entry points).
"""
from chipemu.kernels.attention.api import attention
from chipemu.kernels.attention.cache import KVCache
from chipemu.kernels.attention.params import APPEND, ATTENTION, INGEST
from chipemu.kernels.attention.run import decode_step, run_attention
from chipemu.kernels.registry import CliOption, Kernel

__all__ = ["attention", "KVCache", "run_attention", "decode_step", "KERNEL"]

KERNEL = Kernel(
    name="attention", doc="docs/attention.md",
    exports={"attention": attention, "KVCache": KVCache},
    commands={"attention": run_attention}, params=(ATTENTION, APPEND, INGEST),
    options=(CliOption("batch", int, "batch size"),
             CliOption("heads", int, "query heads"),
             CliOption("kv_heads", int, "key/value heads (GQA)"),
             CliOption("seq", int, "query length"),
             CliOption("kv_len", int, "key/value length"),
             CliOption("head_dim", int, "head dimension"),
             CliOption("causal", bool, "causal mask", flag=True),
             CliOption("mask_missing", float, "fraction of keys masked in random missing-data spans"),
             CliOption("fmt", str, "DIMC format of the activations (mxint8, mxint4, ...)")))
