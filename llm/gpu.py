"""The GPU column: a response's time and energy composed from kernels measured on one H200.

`llm/data/h200_measured_baseline.json` holds kernels measured on one NVIDIA H200 (SXM, bf16,
gross board energy from NVML, idle draw included): 8192^3 GEMMs, decode GEMMs of batch 1/8/32/128
x 4096 x 14336 with the weights coming from HBM, causal prefill attention (32 heads x 4096 x
128) and decode attention against 4,096 cached keys (batch 1 and 16). A model's step is
composed from them by the quantity that bounds each kernel:

- decode GEMMs are bound by reading the weights: the step's bf16 weight bytes (every layer's
  seven matrices and the LM head) x the measured seconds and joules per weight byte at the
  batch, interpolated linearly between the measured batches (held beyond them);
- decode attention is bound by reading the cache: the step's bf16 K/V bytes x the measured
  seconds and joules per byte (batch 1's figure at batch 1, batch 16's above);
- prefill GEMMs are bound by compute: 2 x weight parameters x prompt tokens x batch FLOPs at the
  measured bf16 8192^3 rate and joules per FLOP; prefill attention by the causal attention's
  measured FLOP rate (4 x heads x head_dim x L^2 / 2 per sequence and layer).

Norms, RoPE, the residuals and kernel launches are not measured, so not counted: the GPU figures
are a lower bound on time and energy of a real serving stack. The model must fit the H200's
141 GB of HBM in bf16 (weights and the batch's cache), else `fits` is False.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["GpuEstimate", "h200_estimate", "measured", "HBM_BYTES"]

DATA = Path(__file__).parent / "data" / "h200_measured_baseline.json"
HBM_BYTES = 141e9                                        # H200 HBM3e capacity
LABEL = "composed from kernels measured on one H200 (bf16)"


@lru_cache(maxsize=None)
def measured() -> dict:
    """The measured cases by name (s, J, FLOPs, bytes per iteration) and the idle power (W)."""
    raw = json.loads(DATA.read_text())
    cases = {c["name"]: dict(s=c["ms_per_iter"] / 1e3, j=c["energy_j_per_iter"],
                             flops=c["flops"], bytes=c["bytes"]) for c in raw["cases"]}
    return {"device": raw["device"], "cases": cases, "idle_w": raw["idle_power_w"]}


def _per_weight_byte(batch: int):
    """(s, J) per bf16 weight byte of a decode GEMM at `batch` (interpolated on the measured
    batches 1, 8, 32, 128; the weights are the 4096 x 14336 matrix)."""
    cases = measured()["cases"]
    wbytes = 4096 * 14336 * 2
    pts = [(b, cases[f"decode_gemm_b{b}_4096x14336_bf16"]) for b in (1, 8, 32, 128)]
    if batch <= pts[0][0]:
        c = pts[0][1]
        return c["s"] / wbytes, c["j"] / wbytes
    for (b0, c0), (b1, c1) in zip(pts, pts[1:]):
        if batch <= b1:
            f = (batch - b0) / (b1 - b0)
            return ((c0["s"] + f * (c1["s"] - c0["s"])) / wbytes,
                    (c0["j"] + f * (c1["j"] - c0["j"])) / wbytes)
    c = pts[-1][1]
    return c["s"] / wbytes, c["j"] / wbytes


def _per_kv_byte(batch: int):
    c = measured()["cases"]["attn_decode_b1_kv4096_h32_d128_bf16" if batch <= 1
                            else "attn_decode_b16_kv4096_h32_d128_bf16"]
    return c["s"] / c["bytes"], c["j"] / c["bytes"]


@dataclass(frozen=True)
class GpuEstimate:
    """A response on one H200, composed (see the module docstring): seconds and joules for the
    whole batch; fits: the bf16 weights and cache fit its HBM."""
    ttft_s: float
    decode_s: float
    energy_j: float
    fits: bool
    decode_j: float = 0.0           # the decode steps' share of energy_j
    label: str = LABEL


def h200_estimate(cfg, *, batch: int, prompt: int, new_tokens: int) -> GpuEstimate:
    """The H200 column for `cfg` (a ModelConfig) serving `batch` sequences of `prompt` tokens
    and `new_tokens` generated tokens each (see the module docstring)."""
    L, d, kvh = cfg.num_hidden_layers, cfg.head_dim, cfg.num_key_value_heads
    h, inter, q = cfg.hidden_size, cfg.intermediate_size, cfg.num_attention_heads * cfg.head_dim
    layer_params = h * q + 2 * h * kvh * d + q * h + 3 * h * inter
    gemm_params = L * layer_params + h * cfg.vocab_size            # the LM head too
    sw, jw = _per_weight_byte(batch)
    skv, jkv = _per_kv_byte(batch)
    kv_token_bytes = L * 2 * kvh * d * 2                           # K and V, bf16
    cases = measured()["cases"]
    g, a = cases["gemm_bf16_8192"], cases["attn_prefill_causal_s4096_h32_d128_bf16"]
    pre_flops = 2 * gemm_params * prompt * batch
    att_flops = L * batch * 4 * cfg.num_attention_heads * d * prompt * prompt / 2
    ttft = pre_flops * g["s"] / g["flops"] + att_flops * a["s"] / a["flops"]
    e = pre_flops * g["j"] / g["flops"] + att_flops * a["j"] / a["flops"]
    dec, pre_e = 0.0, e
    for t in range(1, new_tokens):                                  # decode steps
        kv = batch * (prompt + t) * kv_token_bytes
        dec += gemm_params * 2 * sw + kv * skv
        e += gemm_params * 2 * jw + kv * jkv
    need = gemm_params * 2 + 2 * cfg.vocab_size * h * (not cfg.tie_word_embeddings) \
        + batch * (prompt + new_tokens) * kv_token_bytes
    return GpuEstimate(ttft, dec, e, need <= HBM_BYTES, e - pre_e)
