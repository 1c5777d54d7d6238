"""Operator profiles of a model's layer on one card, for serving simulators (docs/llm.md
"Operator profiles"): each operator timed alone in timing mode over a grid of sizes.

    rows = compute_profile(cfg, tokens=[1, 8, 64])              # one row per token count
    rows = attention_profile(cfg, batches=[1, 16], kv=[512, 2048], chunks=[64])
    write_table(rows, "out/mlp.csv")                             # or .parquet (pandas, pyarrow)

The columns follow the operator profiles Vidur reads (its mlp.csv and attention.csv): the
model's shape columns it filters on, `num_tokens` or (`batch_size`, `kv_cache_size`,
`prefill_chunk_size`), and `time_stats.<operator>.median` in milliseconds; chipemu adds
`energy_j.<operator>` (joules: the operator's dynamic energy and the card's static power over
its span), the device, formats, KV home and its version. Each figure is one timed run (the
emulator is deterministic: the median of one).
"""
from __future__ import annotations

import csv
import json
import lzma
import pathlib
from importlib.metadata import version

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.attention.cache import KVCache
from chipemu.kernels.card import Card

__all__ = ["COMPUTE_OPS", "ATTENTION_OPS", "compute_profile", "attention_profile",
           "write_table", "write_vidur_dataset"]

# Vidur's operator names -> the calls of a decoder block that make them up
# (kernels/program/block.py)
COMPUTE_OPS = {"attn_pre_proj": ("wq", "wk", "wv"), "attn_post_proj": ("wo",),
               "mlp_up_proj": ("w1", "w3"), "mlp_down_proj": ("w2",), "mlp_act": ("act",),
               "input_layernorm": ("norm1",), "post_attention_layernorm": ("norm2",),
               "attn_rope": ("rope_q", "rope_k"), "add": ("res1",)}
ATTENTION_OPS = ("attn_decode", "attn_prefill", "attn_kv_cache_save")


def _sizes(name, values, lo=1):
    if isinstance(values, int):
        values = [values]
    out = [args.integer(name, v, lo, error=ShapeError) for v in values]
    if not out:
        raise ShapeError(f"{name}=[]; allowed: one or more integers >= {lo}")
    return sorted(set(out))


def _head(cfg, device, **extra) -> dict:
    return {"model": cfg.name, "device": device, "chipemu_version": version("chipemu"),
            "n_embd": cfg.hidden_size, **extra, "num_tensor_parallel_workers": 1}


def _op_time(card, inputs, body):
    """(ms, J) of the calls body(p, *inputs) makes, timed alone: from the last input's arrival
    to the program's end."""
    with card.program("op") as p:
        xs = [p.input(s, name=f"x{i}") for i, s in enumerate(inputs)]
        body(p, *xs)
    r = p.result
    ks = r.kernels
    start = max(k["end_cycle"] for k in ks.values() if k["kind"] == "input")
    energy = sum(k["energy_fj"] for k in ks.values() if k["kind"] != "input")
    return r.device.seconds(r.cycles - start) * 1e3, energy * 1e-15


def _placed(device, place):
    """A timing card with place(card) done: one weight copy per chiplet, as an estimate's
    layers are placed, or more where one copy's working buffers do not fit (the same
    fallback)."""
    why = None
    for reps in (1, 2, 4, 8):
        card = Card(device, mode="timing")
        try:
            return card, place(card, reps)
        except CapacityError as exc:
            why = exc
    raise why


def compute_profile(cfg, tokens, *, device="corsair", fmt="mxint8", weight_fmt="mxint4",
                    progress=None) -> list[dict]:
    """One row per token count: every operator of COMPUTE_OPS for `num_tokens` rows, each on a
    card of its own (its weights at weight_fmt, activations at fmt), timed alone."""
    tokens = _sizes("tokens", tokens)
    s, rows = cfg.block_shape(), []
    h, q, kv, inter = s.hidden, s.heads * s.head_dim, s.kv_heads * s.head_dim, s.intermediate
    shapes = s.weight_shapes()
    rope = dict(head_dim=s.head_dim, theta=s.rope_theta, max_positions=2, tables="dram")
    for i, n in enumerate(tokens):
        pos = np.zeros(n, np.int64)

        def weights(*names):
            def place(c, reps):
                out = [c.place(k, shapes[k], fmt=fmt, rows=n, weight_fmt=weight_fmt,
                               max_replicas=reps) for k in names]
                for pw in out:          # a program's staging too, within the fallback
                    c.staging(pw)
                return out
            return place

        def ops(*specs):
            return lambda c, reps: [c.place_op(k, kind, rows=n, cols=cols, **kw)
                                    for k, kind, cols, kw in specs]
        norm = ("norm", "rmsnorm", h, dict(gamma=(h,), eps=s.eps))
        calls = {   # operator: (how it is placed, its inputs, the calls of its program)
            "attn_pre_proj": (weights("wq", "wk", "wv"), [(n, h)],
                              lambda p, w, x: [p.matmul(x, pw) for pw in w]),
            "attn_post_proj": (weights("wo"), [(n, q)], lambda p, w, x: p.matmul(x, w[0])),
            "mlp_up_proj": (weights("w1", "w3"), [(n, h)],
                            lambda p, w, x: [p.matmul(x, pw) for pw in w]),
            "mlp_down_proj": (weights("w2"), [(n, inter)], lambda p, w, x: p.matmul(x, w[0])),
            "mlp_act": (ops(("act", "glu", inter, dict(act="silu"))), [(n, inter)] * 2,
                        lambda p, o, g, u: p.op(o[0], g, u)),
            "input_layernorm": (ops(norm), [(n, h)], lambda p, o, x: p.op(o[0], x)),
            "post_attention_layernorm": (ops(norm), [(n, h)], lambda p, o, x: p.op(o[0], x)),
            "attn_rope": (ops(("rq", "rope", q, rope), ("rk", "rope", kv, rope)),
                          [(n, q), (n, kv)], lambda p, o, a, b: (
                              p.op(o[0], a, positions=pos), p.op(o[1], b, positions=pos))),
            "add": (ops(("add", "residual", h, {})), [(n, h)] * 2,
                    lambda p, o, a, b: p.op(o[0], a, b))}
        row = _head(cfg, Card(device, mode="timing").device.name, fmt=fmt,
                    weight_fmt=weight_fmt, n_head=cfg.num_attention_heads,
                    n_kv_head=cfg.num_key_value_heads, n_expanded_embd=cfg.intermediate_size,
                    use_gated_mlp=True, vocab_size=cfg.vocab_size)
        row["num_tokens"] = n
        for op in COMPUTE_OPS:
            place, inputs, body = calls[op]
            card, placed = _placed(device, place)
            row[f"time_stats.{op}.median"], row[f"energy_j.{op}"] = _op_time(
                card, inputs, lambda p, *xs: body(p, placed, *xs))
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(tokens))
    return rows


def _cache_step(cfg, device, b, L, sq, fmt, kv_home):
    """(attention ms, J; cache save ms, J) of one step of sq new tokens per sequence over L
    cached keys, the inputs on the device (as in a program): "load" + "compute" vs "ingest"."""
    s = cfg.block_shape()
    shape = (b, s.kv_heads, L, s.head_dim)
    c = KVCache(shape, shape, max_len=L + sq, max_new=sq, heads=s.heads, fmt=fmt,
                device=device, mode="timing", device_inputs=True, kv_home=kv_home)
    r = c.step_on_device(sq)
    ph = r.phases
    dev = r.device

    def part(names):
        cyc = sum(ph[n]["cycles"] for n in names if n in ph)
        return dev.seconds(cyc) * 1e3, sum(ph[n]["energy_pj"] for n in names if n in ph) * 1e-12
    return part(("load", "compute")), part(("ingest",))


def attention_profile(cfg, *, batches, kv, chunks=(), device="corsair", fmt="mxint8",
                      kv_home="dimc", block_size=16, progress=None) -> list[dict]:
    """Decode rows (batch_size x kv_cache_size, prefill_chunk_size 0) and prefill rows (batch 1,
    each chunk x kv_cache_size): attention and the cache's append timed alone per step.
    block_size: the label Vidur filters on (its paged cache's block size; chipemu's cache has
    no pages: set it to the simulator run's)."""
    batches, kv = _sizes("batches", batches), _sizes("kv", kv)
    chunks = _sizes("chunks", chunks) if chunks else []
    kv_home = args.choice("kv_home", kv_home, ("dimc", "dram"))
    points = [(b, L, 0) for b in batches for L in kv] + [(1, L, c) for c in chunks for L in kv]
    rows = []
    for i, (b, L, c) in enumerate(points):
        (t, e), (ts, es) = _cache_step(cfg, device, b, L, max(c, 1), fmt, kv_home)
        row = _head(cfg, device if isinstance(device, str) else device.name, fmt=fmt,
                    kv_home=kv_home, n_q_head=cfg.num_attention_heads,
                    n_kv_head=cfg.num_key_value_heads, block_size=block_size)
        row.update(batch_size=b, kv_cache_size=L, prefill_chunk_size=c, is_decode=c == 0)
        op = "attn_decode" if c == 0 else "attn_prefill"
        other = "attn_prefill" if c == 0 else "attn_decode"
        row.update({f"time_stats.{op}.median": t, f"time_stats.{other}.median": np.nan,
                    "time_stats.attn_kv_cache_save.median": ts, f"energy_j.{op}": e,
                    f"energy_j.{other}": np.nan, "energy_j.attn_kv_cache_save": es})
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(points))
    return rows


def write_table(rows, path) -> str:
    """rows (dicts with the same keys) to `path`: .csv or .csv.xz (the csv and lzma modules)
    or .parquet (pandas with pyarrow: pip install 'chipemu[dask]')."""
    path = str(path)
    if path.endswith(".parquet"):
        try:
            import pandas as pd
            pd.DataFrame(rows).to_parquet(path, index=False)
        except ImportError as exc:
            raise ImportError(f"writing {path} needs pandas and pyarrow (pip install "
                              f"'chipemu[dask]'): {exc}") from None
        return path
    if not path.endswith((".csv", ".csv.xz")):
        raise ShapeError(f"path={path!r}; allowed: a .csv, .csv.xz or .parquet file")
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "wt", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows({k: ("" if isinstance(v, float) and np.isnan(v) else v)
                       for k, v in r.items()} for r in rows)
    return path


def write_vidur_dataset(mlp, attention, folder, *, model, device_sku) -> list[str]:
    """The layout of a Vidur profiling dataset (Vidur 0.0.26 downloads one from the Hugging
    Face hub as `model_profiling_dataset`): mlp.csv.xz, attention.csv.xz and config.json with
    the model's Hugging Face name and the device SKU its run names."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = [write_table(mlp, folder / "mlp.csv.xz"), write_table(attention, folder /
                                                                "attention.csv.xz")]
    (folder / "config.json").write_text(json.dumps({"model": model, "device_sku": device_sku},
                                                   indent=2))
    return out + [str(folder / "config.json")]
