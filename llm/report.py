"""Tables (rich) and plots (matplotlib, optional) of response estimates (llm/estimate.py)."""
from __future__ import annotations

from chipemu.llm.response import MISTRAL

__all__ = ["response_table", "sweep_table", "breakdown_table", "plot_sweep", "ROWS"]

# (label, figure of an Estimate, figure of its H200 column)
ROWS = [
    ("cards (layers each)", lambda e: f"{e.cards} ({e.layers_per_card})",
     lambda e: "1" if e.gpu.fits else "no fit"),
    ("KV cache in", lambda e: e.kv_home.upper(), lambda e: "HBM"),
    ("TTFT (ms)", lambda e: _g(e.ttft_s * 1e3), lambda e: _g(e.gpu.ttft_s * 1e3)),
    ("ms / output token", lambda e: _g(e.tpot_s * 1e3), lambda e: _g(e.gpu_tpot_s * 1e3)),
    ("response (s)", lambda e: _g(e.response_s), lambda e: _g(e.gpu.ttft_s + e.gpu.decode_s)),
    ("tokens/s per user", lambda e: _g(e.tokens_per_s_user), lambda e: _gpu_tps(e, 1)),
    ("tokens/s in total", lambda e: _g(e.tokens_per_s_total), lambda e: _gpu_tps(e, e.batch)),
    ("J / output token", lambda e: _g(e.j_per_token), lambda e: _g(e.gpu_j_per_token)),
    ("J / token, decode only", lambda e: _g(e.decode_j_per_token),
     lambda e: _g(e.gpu_decode_j_per_token)),
    ("J / response", lambda e: _g(e.j_per_response), lambda e: _g(e.gpu.energy_j / e.batch)),
    ("Wh / response", lambda e: _g(e.wh_per_response),
     lambda e: _g(e.gpu.energy_j / e.batch / 3600)),
    ("static share", lambda e: f"{e.static_share:.1%}", lambda e: "-"),
    ("gCO2e / response", lambda e: _g(e.co2e_g), lambda e: _g(e.gpu_co2e_g)),
    ("mL water / response", lambda e: _g(e.water_ml), lambda e: _g(e.gpu_water_ml)),
]


def _g(v: float) -> str:
    return f"{v:.4g}"


def _gpu_tps(e, batch):
    tpot = e.gpu_tpot_s
    return _g(batch / tpot) if tpot else "-"


def response_table(estimates, title=None):
    """A rich Table: one column per estimate and its H200 column, the Mistral reference below."""
    from rich.table import Table

    e0 = estimates[0]
    table = Table(title=title or f"one response: batch {e0.batch}, prompt {e0.prompt} tokens, "
                                 f"{e0.new_tokens} new tokens, site {e0.site}",
                  caption=_caption(e0), caption_justify="left")
    table.add_column("")
    for e in estimates:
        table.add_column(f"{e.model}\n{e.weight_fmt} cards", justify="right")
        table.add_column("H200\nbf16", justify="right")
    for label, dev, gpu in ROWS:
        cells = []
        for e in estimates:
            cells += [dev(e), gpu(e)]
        table.add_row(label, *cells)
    return table


def _caption(e):
    scale = MISTRAL["tokens"] / e.new_tokens
    return (f"H200 columns: composed from kernels measured on one H200 (docs/llm.md). "
            f"Reference: {MISTRAL['source']}: {MISTRAL['co2e_g']} gCO2e and "
            f"{MISTRAL['water_ml']:g} mL water ({MISTRAL['co2e_g'] / scale:.3g} gCO2e and "
            f"{MISTRAL['water_ml'] / scale:.3g} mL scaled to {e.new_tokens} tokens). Answer "
            f"quality is not modelled. Cache lengths: {e.cache_lengths} ({e.timed_points} "
            f"timed), {e.wall_s:.1f} s to estimate.")


def breakdown_table(e):
    """Where one decode step's energy goes (at the last cache length): by call (the layers'
    calls summed over the layers) and by the device's components (the layers' dynamic energy;
    static: every used card's over the step)."""
    from rich.table import Table

    table = Table(title=f"{e.model}, batch {e.batch}: one decode step's energy")
    for col in ("call", "mJ", "share", "component (layers)", "mJ "):
        table.add_column(col, justify="left" if col.startswith(("call", "comp")) else "right")
    calls = sorted(e.by_call_j.items(), key=lambda kv: -kv[1])
    total = sum(e.by_call_j.values()) or 1.0
    comps = sorted(e.by_component_j.items(), key=lambda kv: -kv[1])
    for i in range(max(len(calls), len(comps))):
        c = calls[i] if i < len(calls) else ("", None)
        m = comps[i] if i < len(comps) else ("", None)
        table.add_row(c[0], "" if c[1] is None else _g(c[1] * 1e3),
                      "" if c[1] is None else f"{c[1] / total:.1%}", m[0],
                      "" if m[1] is None else _g(m[1] * 1e3))
    return table


def sweep_table(estimates, title="batch sweep"):
    """A rich Table with one row per estimate: the latency / throughput / energy curve."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("model", "batch", "cards", "ms/token", "tok/s total", "J/token decode",
                "H200 ms/token", "H200 J/token decode"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for e in estimates:
        table.add_row(e.model, str(e.batch), str(e.cards), _g(e.tpot_s * 1e3),
                      _g(e.tokens_per_s_total), _g(e.decode_j_per_token), _g(e.gpu_tpot_s * 1e3),
                      _g(e.gpu_decode_j_per_token))
    return table


def plot_sweep(estimates, path):
    """Write a plot (PNG/SVG/PDF by suffix) of time per output token and J/token against total
    tokens/s, one line per model (needs the `plot` extra: matplotlib). Returns the path."""
    from pathlib import Path

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for model in dict.fromkeys(e.model for e in estimates):
        es = sorted((e for e in estimates if e.model == model), key=lambda e: e.batch)
        x = [e.tokens_per_s_total for e in es]
        a.plot(x, [e.tpot_s * 1e3 for e in es], "o-", label=model)
        b.plot(x, [e.decode_j_per_token for e in es], "o-", label=model)
        for e in es:
            a.annotate(f"b{e.batch}", (e.tokens_per_s_total, e.tpot_s * 1e3))
    a.set(xlabel="tokens/s in total", ylabel="ms per output token", xscale="log")
    b.set(xlabel="tokens/s in total", ylabel="J per output token (decode)", xscale="log",
          yscale="log")
    a.legend()
    fig.suptitle("emulated cards: latency and energy against throughput (batch sweep)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
