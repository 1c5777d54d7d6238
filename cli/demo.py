"""What `chipemu demo` computes: quantization error of every format on reference tensors, and the
line it prints for a decode attention step."""
from dataclasses import dataclass

import numpy as np

from chipemu.emulator.numerics.formats import FORMATS, quantize

__all__ = ["FormatErrorRow", "reference_tensors", "format_errors", "decode_line"]


@dataclass(frozen=True)
class FormatErrorRow:
    """Round-trip error of one format on one tensor. sqnr_db = 10·log10(Σx² / Σ(x − x̂)²)."""

    fmt: str
    storage_bits: float
    nbytes: int
    sqnr_db: float
    max_abs_error: float


def reference_tensors(n: int = 1 << 20, seed: int = 0) -> dict[str, np.ndarray]:
    """A gaussian N(0, 1) and a heavy-tailed Student-t (ν = 2) tensor of n float32 values."""
    rng = np.random.default_rng(seed)
    shape = (max(1, n // 4096), min(n, 4096))
    return {"gaussian N(0,1)": rng.standard_normal(shape).astype(np.float32),
            "heavy-tailed t(2)": rng.standard_t(2.0, shape).astype(np.float32)}


def format_errors(x: np.ndarray, *, backend: str = "c") -> list[FormatErrorRow]:
    """Quantize x to every format (blocks along the last axis) and measure the round-trip error."""
    x64 = np.asarray(x, np.float64)
    signal = float(np.sum(x64 * x64))
    rows = []
    for name, spec in FORMATS.items():
        q = quantize(x, name, backend=backend)
        err = q.dequantize(backend=backend).astype(np.float64) - x64
        noise = float(np.sum(err * err))
        sqnr = np.inf if noise == 0 else 10.0 * np.log10(signal / noise)
        rows.append(FormatErrorRow(name, spec.storage_bits, q.nbytes, sqnr, float(np.max(np.abs(err)))))
    return sorted(rows, key=lambda r: (-r.storage_bits, -r.sqnr_db))


def decode_line(fill, step) -> str:
    """The demo's decode-step line: energy per token of the attention (its compute phase) and of
    the whole step (with the append and the query over the host link, and static power)."""
    from chipemu.emulator.engine.summary import _si

    comp = step.phases["compute"]
    per_token = step.metrics["energy_per_token_pj"]
    tokens = round(step.metrics["compute_energy_pj"] / per_token)
    return (f"cache fill: {fill.cycles:,} cycles; decode step: {step.cycles:,} cycles "
            f"({_si(step.seconds, 's')}); phases: append {step.phases['append']['cycles']:,} "
            f"cycles, attention {comp['cycles']:,} ({_si(comp['seconds'], 's')}); energy per token: "
            f"{_si(per_token * 1e-12, 'J')} in the attention (compute phase), "
            f"{_si(step.energy_pj / tokens * 1e-12, 'J')} for the whole step (the append and "
            f"query over the host link, static power)")
