"""The engine's two network models side by side (docs/engine.md section 4, "Accuracy").

    from chipemu.kernels.networks import CASES, compare
    row = compare(CASES["matmul 512x1024x1024"], "corsair")
    row.deviation, row.packet, row.message        # compute-phase cycles (kernels) or the
                                                  # achieved figure (microbenchmarks)

Each case runs in timing mode once per model on the same device (the kernels' `network`
keyword), and once more under the packet model with packets of COARSE bytes: how far the reference
itself moves with its packet size shows how much of a deviation is packet-level arbitration
rather than the message model. A kernel's figure is its compute phase's cycles; a microbenchmark's is its achieved
figure (`FIGURES`). Dynamic energy must be equal under both models (the same bytes cross the same
channels); only times, and static energy with them, may differ. benchmarks/network_accuracy.py
prints the full table; tests/test_kernels_networks.py checks the small cases.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from chipemu.emulator.device import as_device
from chipemu.emulator.errors import CapacityError

__all__ = ["Case", "Row", "CASES", "SMALL", "FIGURES", "TARGET", "compare", "figure"]

# the achieved figure of each microbenchmark, and how close the fast model must come
FIGURES = {"dimc_peak": "achieved_tflops", "noc_bandwidth": "achieved_bytes_per_cycle",
           "noc_hotspot": "cycles_per_sender", "d2d_bandwidth": "achieved_bytes_per_cycle",
           "dram_stream": "achieved_bytes_per_cycle", "ping_pong": "one_way_cycles"}
TARGET = {"kernel": 0.02, "microbenchmark": 0.01}
COARSE = 4096          # bytes per packet of the reference's sensitivity run


@dataclass(frozen=True)
class Case:
    """One run: `run(device, network)` -> Result; kind "kernel" or "microbenchmark"."""

    name: str
    kind: str
    run: Callable


@dataclass(frozen=True)
class Row:
    case: str
    preset: str
    kind: str
    packet: float | None          # the figure under each model (None: the case does not fit)
    message: float | None
    coarse: float | None          # the packet model with COARSE-byte packets
    dynamic_energy_equal: bool | None
    seconds_packet: float         # wall time of each run (log building + engine)
    seconds_message: float
    note: str = ""

    @property
    def deviation(self) -> float | None:
        """(message - packet) / packet, or None when the case did not run."""
        if self.packet in (None, 0) or self.message is None:
            return None
        return (self.message - self.packet) / self.packet

    @property
    def coarse_deviation(self) -> float | None:
        """(coarse - packet) / packet: the reference's own sensitivity to its packet size."""
        if self.packet in (None, 0) or self.coarse is None:
            return None
        return (self.coarse - self.packet) / self.packet

    @property
    def within_target(self) -> bool | None:
        d = self.deviation
        return None if d is None else abs(d) <= TARGET[self.kind]


def figure(result, kind: str) -> float:
    """The compared figure of a Result: a microbenchmark's achieved figure, else the cycles of
    its "compute" phase (the whole run when it has no phases)."""
    if kind == "microbenchmark":
        return float(result.metrics[FIGURES[result.kernel]])
    phases = {p.name: p for p in result.phase_list}
    return float(phases["compute"].cycles if "compute" in phases else result.cycles)


def compare(case: Case, device) -> Row:
    """Run `case` on `device` (Device, preset name or path) under both models -> Row."""
    dev = as_device(device)
    coarse = dev.replace({"chiplet.noc.max_packet_bytes": max(COARSE,
                                                              dev.chiplet.noc.max_packet_bytes)})
    out, secs = {}, {}
    for key, d, net in (("packet", dev, "packet"), ("message", dev, "message"),
                        ("coarse", coarse, "packet")):
        t0 = time.perf_counter()
        try:
            out[key] = case.run(d, net)
        except CapacityError as err:
            return Row(case.name, dev.name, case.kind, None, None, None, None, 0.0, 0.0,
                       f"does not fit: {str(err).split(':')[0]}")
        secs[key] = time.perf_counter() - t0
    p, m = out["packet"], out["message"]
    dyn = [int(r.timing.energy_fj_event.sum()) for r in (p, m)]
    return Row(case.name, dev.name, case.kind, figure(p, case.kind), figure(m, case.kind),
               figure(out["coarse"], case.kind), dyn[0] == dyn[1], secs["packet"],
               secs["message"])


# ---- the cases ----

def _mm(m, k, n, batch=(), fmt="mxint8", wfmt=None):
    from chipemu.kernels.matmul import matmul
    return lambda dev, net: matmul(batch + (m, k), (k, n), fmt=fmt, weight_fmt=wfmt, device=dev,
                                   mode="timing", network=net)


def _prefill(b, hq, hkv, s, d, causal=False, masked=False, fmt="mxint8", skv=None):
    import numpy as np

    from chipemu.kernels.attention import attention
    skv = skv or s

    def run(dev, net):
        mask = None
        if masked:      # every sequence's last quarter of keys is padding
            mask = np.ones((b, 1, s, skv), bool)
            mask[..., skv - skv // 4:] = False
        return attention((b, hq, s, d), (b, hkv, skv, d), (b, hkv, skv, d), attn_mask=mask,
                         is_causal=causal, fmt=fmt, device=dev, mode="timing", network=net)
    return run


def _decode(b, hq, hkv, kv_len, d, max_len):
    from chipemu.kernels.attention import KVCache, attention

    def run(dev, net):
        cache = KVCache((b, hkv, kv_len, d), (b, hkv, kv_len, d), max_len=max_len, heads=hq,
                        device=dev, mode="timing")
        return attention((b, hq, 1, d), (b, hkv, 1, d), (b, hkv, 1, d), cache=cache,
                         network=net)
    return run


def _micro(name, **kw):
    from chipemu.kernels.microbench import MICROBENCHMARKS
    return lambda dev, net: MICROBENCHMARKS[name](dev, mode="timing", network=net, **kw)


def _cases(specs):
    return {name: Case(name, kind, run) for name, kind, run in specs}


_MICRO = [(f"{n}", "microbenchmark", _micro(n)) for n in FIGURES]

# small enough for the test suite (tiny and ring8 in seconds); the shapes the kernel tests use
SMALL = _cases(_MICRO + [
    ("matmul 64x64x64", "kernel", _mm(64, 64, 64)),
    ("matmul 1x64x64", "kernel", _mm(1, 64, 64)),
    ("matmul 31x33x1000", "kernel", _mm(31, 33, 1000)),
    ("matmul 33x1000x31", "kernel", _mm(33, 1000, 31)),
    ("matmul 2x3x128x256x192", "kernel", _mm(128, 256, 192, (2, 3))),
    ("matmul 256x512x384", "kernel", _mm(256, 512, 384)),
    ("matmul 33x1000x31 W4A8", "kernel", _mm(33, 1000, 31, wfmt="mxint4")),
    ("matmul 70x520x65 bfp16 x bfp12", "kernel", _mm(70, 520, 65, fmt="bfp16", wfmt="bfp12")),
    ("matmul 5x7x64x300 bfp12 x int8", "kernel", _mm(64, 300, 300, (5, 7), "bfp12", "int8")),
    ("matmul 1000x33x70 mxint4 x bfp12", "kernel", _mm(1000, 33, 70, fmt="mxint4", wfmt="bfp12")),
    ("matmul 300x700x900", "kernel", _mm(300, 700, 900)),
    ("matmul 17x64x5000", "kernel", _mm(17, 64, 5000)),
    ("attention prefill 1x4x2x128x64 causal", "kernel", _prefill(1, 4, 2, 128, 64, causal=True)),
    ("attention prefill 2x2x2x128x64 masked", "kernel", _prefill(2, 2, 2, 128, 64, masked=True)),
    ("attention decode 2x4x2 KV 127 of 256 x64", "kernel", _decode(2, 4, 2, 127, 64, 256)),
    ("attention prefill 2x4x1x5 KV 100 x64 mxint4 masked", "kernel",
     _prefill(2, 4, 1, 5, 64, masked=True, fmt="mxint4", skv=100)),
    ("attention prefill 1x8x8x65x64 causal mxint4", "kernel",
     _prefill(1, 8, 8, 65, 64, causal=True, fmt="mxint4")),
    ("attention prefill 1x4x1x9 KV 100 x128 causal", "kernel",
     _prefill(1, 4, 1, 9, 128, causal=True, skv=100)),
])

# the full table of docs/engine.md (benchmarks/network_accuracy.py)
CASES = dict(SMALL, **_cases([
    ("matmul 512x1024x1024", "kernel", _mm(512, 1024, 1024)),
    ("matmul 1000x3000x777", "kernel", _mm(1000, 3000, 777)),
    ("matmul 1x4096x14336", "kernel", _mm(1, 4096, 14336)),
    ("matmul 16x4096x14336", "kernel", _mm(16, 4096, 14336)),
    ("matmul 4x256x4096x4096", "kernel", _mm(256, 4096, 4096, (4,))),
    ("matmul 2048x2048x2048", "kernel", _mm(2048, 2048, 2048)),
    ("matmul 8192x8192x8192", "kernel", _mm(8192, 8192, 8192)),
    ("attention prefill 1x8x8x2048x128 causal", "kernel",
     _prefill(1, 8, 8, 2048, 128, causal=True)),
    ("attention prefill 1x32x8x1024x128 masked", "kernel",
     _prefill(1, 32, 8, 1024, 128, masked=True)),
    ("attention decode 16x32x8 KV 4095 x128", "kernel", _decode(16, 32, 8, 4095, 128, 4096)),
]))


# ---- the table ----

def row_markdown(row: Row) -> str:
    """One line of docs/engine.md's accuracy table."""
    def fig(v):
        return "—" if v is None else f"{v:.6g}"
    d, dc = row.deviation, row.coarse_deviation
    dev = "does not fit" if d is None else f"{100 * d:+.2f} %"
    coarse = "" if dc is None else f"{100 * dc:+.2f} %"
    ok = "" if d is None else ("yes" if row.within_target else "**no**")
    energy = "" if row.dynamic_energy_equal is None else ("equal" if row.dynamic_energy_equal
                                                          else "**differs**")
    return (f"| {row.case} | {row.preset} | {fig(row.packet)} | {fig(row.message)} | {dev} | "
            f"{ok} | {coarse} | {energy} |")


HEADER = ("| case | device | packet model | message model | deviation | within target | "
          f"packet model, {COARSE} B packets | dynamic energy |\n"
          "|---|---|---|---|---|---|---|---|")


def main(argv=None) -> int:
    """python -m chipemu.kernels.networks [--small] [--presets a,b] [CASE ...]: the table."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--small", action="store_true", help="only the cases the tests check")
    ap.add_argument("--presets", default="tiny,ring8,corsair")
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    args = ap.parse_args(argv)
    table = SMALL if args.small else CASES
    names = args.cases or list(table)
    print(HEADER, flush=True)
    for preset in args.presets.split(","):
        for name in names:
            row = compare(table[name], preset)
            print(row_markdown(row) + f"  <!-- {row.seconds_packet:.2f} s / "
                  f"{row.seconds_message:.2f} s -->", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
