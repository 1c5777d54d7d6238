"""Calibrating the labelled overhead energy term, and the sensitivity of the fit.

DESIGN §5: keep the sourced per-action energies as they are and fit only the overhead term
(`power.overhead_fj_per_mac`, an explicit assumption) so that `dimc_peak` on a device stays at or
below a power budget (corsair: the card's 600 W). Power is linear in the overhead, so two timed
runs give the exact fit. `python -m chipemu.kernels.microbench.calibration` prints the fit and the table that
docs/calibration.md records.
"""
from __future__ import annotations

import math

from chipemu.emulator import Device

from chipemu.kernels.microbench import dimc_peak

__all__ = ["peak_power", "fit_overhead", "component_shares", "sensitivity", "ENERGY_PATHS"]

# per-action energies of the device, by the dotted path Device.replace takes
ENERGY_PATHS = (
    "tile.dimc.fj_per_mac.mxint8", "tile.dimc.write_pj_per_row", "tile.sram.read_pj_per_bit",
    "tile.sram.write_pj_per_bit", "chiplet.noc.pj_per_bit_hop", "chiplets.link.pj_per_bit",
    "chiplet.dram.pj_per_bit", "host.pj_per_bit", "power.static_tile_w",
    "power.static_chiplet_w", "power.static_card_w",
)
_RUN = dict(mode="timing", nvec=256, iterations=8)


def _compute(device: Device, fmt: str = "mxint8"):
    r = dimc_peak(device, fmt=fmt, **_RUN)
    return r, r.phase_list[1]


def peak_power(device: Device, fmt: str = "mxint8") -> float:
    """Average power (W) of dimc_peak's compute phase."""
    _, ph = _compute(device, fmt)
    return ph.energy_fj * 1e-15 / ph.seconds


def fit_overhead(device: Device, budget_w: float = 600.0, fmts=("mxint8", "mxint4")) -> int:
    """The largest whole fJ per 8b x 8b MAC keeping dimc_peak's compute phase <= budget_w in every
    format of `fmts` (corsair: the card's 600 W at peak MXINT8 and at peak MXINT4)."""
    fits = []
    for fmt in fmts:
        p0 = peak_power(device.replace("power.overhead_fj_per_mac", 0.0), fmt)
        p1 = peak_power(device.replace("power.overhead_fj_per_mac", 1000.0), fmt)
        slope = (p1 - p0) / 1000.0                   # W per fJ/MAC
        fit = max(0, math.floor((budget_w - p0) / slope))
        while fit > 0 and peak_power(device.replace("power.overhead_fj_per_mac", float(fit)), fmt) > budget_w:
            fit -= 1                                   # rounding in the integer-fJ engine
        fits.append(fit)
    return min(fits)


def component_shares(device: Device, fmt: str = "mxint8") -> dict:
    """Share (0..1) of each energy component in dimc_peak's compute phase: the phase's events
    timed alone give its dynamic components, the rest of the phase's energy is static."""
    from chipemu.emulator.engine.core import simulate
    from chipemu.emulator.events import EventLog

    r, ph = _compute(device, fmt)
    ev = r.events.events[r.events.events["step"] == 2].copy()   # the MVMs: no peers
    sub = simulate(EventLog(ev, r.events.peers[:0], r.events.buffers), device.engine_params())
    shares = {k: v / ph.energy_fj for k, v in sub.energy_breakdown["component"].items() if k != "static"}
    shares["static"] = 1.0 - sum(shares.values())
    return shares


def sensitivity(device: Device, overhead_fj: int, factors=(0.5, 1.5)) -> dict:
    """{path: {factor: (power W, overhead share)}} with each per-action energy scaled in turn."""
    dev = device.replace("power.overhead_fj_per_mac", float(overhead_fj))
    out = {}
    for path in ENERGY_PATHS:
        value = _get(dev, path)
        out[path] = {}
        for f in factors:
            d = dev.replace(path, value * f)
            shares = component_shares(d)
            out[path][f] = (peak_power(d), shares.get("overhead", 0.0))
    return out


def _get(device, path):
    node = device
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


if __name__ == "__main__":
    dev = Device.preset("corsair")
    fit = fit_overhead(dev)
    cal = dev.replace("power.overhead_fj_per_mac", float(fit))
    print(f"fitted overhead: {fit} fJ per 8b x 8b MAC; dimc_peak MXINT8 power {peak_power(cal):.1f} W, "
          f"MXINT4 {peak_power(cal, 'mxint4'):.1f} W")
    for name, share in sorted(component_shares(cal).items(), key=lambda kv: -kv[1]):
        print(f"  {name:10s} {100 * share:5.1f} %")
    for path, row in sensitivity(dev, fit).items():
        cells = "  ".join(f"x{f}: {p:6.1f} W, overhead {100 * s:4.1f} %" for f, (p, s) in row.items())
        print(f"  {path:32s} {cells}")
