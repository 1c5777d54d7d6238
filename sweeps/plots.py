"""Plots of a sweep table (the optional `plot` extra, matplotlib): a roofline of the device with
each run on it, the energy breakdown as stacked bars, and any two columns against each other
with their Pareto front (docs/sweeps.md). Each returns the Figure; `save` writes PNG, SVG or PDF
by the file's suffix. The data drawn are the table's own columns (tests compare them).
"""
from __future__ import annotations

import math
from pathlib import Path

from chipemu.emulator.device import as_device
from chipemu.emulator.errors import ConfigError

__all__ = ["roofs", "roofline", "energy_bars", "pareto", "pareto_front", "save"]

COMPONENTS = ("dimc", "dimc_write", "sram", "vector", "noc", "d2d", "dram", "host", "static",
              "overhead")


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("plots need matplotlib: pip install 'chipemu[plot]'") from None
    return plt


def _annotate(ax, xs, ys, labels):
    """Label each drawn point; points drawn at one place share one label ("12, 14")."""
    at = {}
    for x, y, label in zip(xs, ys, labels):
        if x == x and y == y:
            at.setdefault((float(x), float(y)), []).append(str(label))
    for (x, y), names in at.items():
        ax.annotate(", ".join(names), (x, y), fontsize=6, xytext=(3, 3),
                    textcoords="offset points")


def roofs(device) -> dict:
    """{"compute": {fmt: peak FLOP/s}, "memory": {roof: bytes/s}} of a device: the DIMC peak of
    each of its formats; the SRAM ports of every tile, the NoC's links (every directed link of
    every chiplet's mesh), the D2D links (both directions), the DRAM channels and the host link."""
    d = as_device(device)
    hz = d.clock_ghz * 1e9
    c = d.chiplet
    rows, cols = c.tile_rows, c.tile_cols
    mesh_links = 2 * (rows * (cols - 1) + cols * (rows - 1)) * d.n_chiplets
    memory = {"sram": d.tile.sram.port_bytes_per_cycle * d.n_tiles * hz,
              "noc": c.noc.link_bytes_per_cycle * mesh_links * hz,
              "d2d": sum(2 * k.bytes_per_cycle for k in d.d2d_links()) * hz,
              "dram": c.dram.bytes_per_cycle * c.dram.channels * d.n_chiplets * hz,
              "host": d.host.bytes_per_cycle * hz}
    return {"compute": {f: d.peak_flops(f) for f in d.tile.dimc.formats},
            "memory": {k: v for k, v in memory.items() if v > 0}}


def _ok(df, *columns):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"the table has no column {', '.join(map(repr, missing))}; it has "
                          f"{', '.join(map(str, df.columns))}")
    sel = df["status"] == "ok" if "status" in df.columns else df.index == df.index
    return df[sel]


def _flops(v):
    return f"{v / 1e15:.3g} PFLOP/s" if v >= 1e15 else f"{v / 1e12:.3g} TFLOP/s"


def roofline(df, device=None):
    """The device's roofs (log-log: FLOP per byte -> FLOP/s) and every run with a FLOP count:
    filled at (intensity_flop_per_byte, flop_per_s), the whole run with its weight loads;
    hollow at (intensity_compute, flop_per_s_compute), its compute phase with the weights
    resident. device: None takes the table's first row's device (without its overrides)."""
    plt = _plt()
    rows = _ok(df, "intensity_flop_per_byte", "flop_per_s", "intensity_compute",
               "flop_per_s_compute")
    rows = rows[rows["intensity_flop_per_byte"].notna() & rows["flop_per_s"].notna()]
    dev = as_device(device if device is not None else df["device"].iloc[0])
    r = roofs(dev)
    top = max(r["compute"].values())
    xs = list(rows["intensity_flop_per_byte"]) + list(rows["intensity_compute"].dropna())
    xs = xs or [1.0]
    lo, hi = min(xs + [1e-2]) / 4, max(xs + [top / min(r["memory"].values())]) * 4
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, bw in sorted(r["memory"].items(), key=lambda kv: kv[1]):
        knee = top / bw
        ax.plot([lo, min(knee, hi)], [bw * lo, bw * min(knee, hi)], lw=1,
                label=f"{name} {bw / 1e12:.3g} TB/s")
    peaks = {}
    for fmt, peak in r["compute"].items():          # formats of one peak share a label
        peaks.setdefault(peak, []).append(fmt)
    for peak, fmts in peaks.items():
        ax.axhline(peak, ls="--", lw=0.8, color="gray")
        ax.text(lo * 1.1, peak * 1.08, f"DIMC {', '.join(fmts)}: {_flops(peak)}", fontsize=7)
    ax.scatter(rows["intensity_flop_per_byte"], rows["flop_per_s"], s=18, color="black",
               zorder=3, label="runs (with their weight loads)")
    ax.scatter(rows["intensity_compute"], rows["flop_per_s_compute"], s=22, zorder=3,
               facecolors="none", edgecolors="C3", label="compute phases (weights resident)")
    for xc, yc in (("intensity_flop_per_byte", "flop_per_s"),
                   ("intensity_compute", "flop_per_s_compute")):
        _annotate(ax, rows[xc], rows[yc], rows["point"])
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), xlabel="intensity (FLOP / byte moved)",
           ylabel="achieved (FLOP/s)", title=f"roofline of {dev.name}")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_ylim(top=top * 3)
    fig.tight_layout()
    return fig


def energy_bars(df, label: str = "point"):
    """One bar per run (ok rows), its energy stacked by component (energy.<component>_fj),
    in microjoules."""
    plt = _plt()
    cols = [f"energy.{c}_fj" for c in COMPONENTS if f"energy.{c}_fj" in df.columns]
    rows = _ok(df, label, *cols)
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(rows) + 2), 4.5))
    x = list(range(len(rows)))
    bottom = [0.0] * len(rows)
    for col in cols:
        vals = [float(v) * 1e-9 for v in rows[col].fillna(0)]
        if any(vals):
            ax.bar(x, vals, bottom=bottom, label=col[7:-3])
            bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_xticks(x, [str(v) for v in rows[label]], rotation=90 if len(x) > 12 else 0)
    ax.set(xlabel=label, ylabel="energy (µJ)", title="energy by component")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pareto_front(xs, ys, minimize=(True, True)) -> list:
    """Indices (into xs, ys) of the points no other point beats in both, sorted by x."""
    sx, sy = (1 if m else -1 for m in minimize)
    pts = sorted(range(len(xs)), key=lambda i: (sx * xs[i], sy * ys[i]))
    front, best = [], math.inf
    for i in pts:
        if sy * ys[i] < best:
            front.append(i)
            best = sy * ys[i]
    return front


def pareto(df, x: str, y: str, minimize=(True, True)):
    """Column y against column x for the ok rows, their Pareto front drawn and listed in the
    legend (minimize: per axis, whether smaller is better)."""
    plt = _plt()
    rows = _ok(df, x, y)
    rows = rows[rows[x].notna() & rows[y].notna()]
    xs, ys = [float(v) for v in rows[x]], [float(v) for v in rows[y]]
    front = pareto_front(xs, ys, minimize)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(xs, ys, s=16, color="gray", label="runs")
    ax.plot([xs[i] for i in front], [ys[i] for i in front], "o-", color="C3", ms=5,
            label=f"Pareto front ({len(front)})")
    _annotate(ax, xs, ys, rows["point"])
    ax.set(xlabel=x, ylabel=y, title=f"{y} vs {x}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def save(fig, path) -> Path:
    """Write the figure (format from the suffix: .png, .svg, .pdf) and close it."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ConfigError(f"plot file {str(path)!r}; allowed suffixes: .png, .svg, .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    _plt().close(fig)
    return path
