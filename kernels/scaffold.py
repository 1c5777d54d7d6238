"""From a finished Machine to a Result: time the log on the device and gather phases.

    m = machine_for(device, mode="functional", backend="c")
    ... m.launch(...) per superstep ...
    return finish(m, device, kernel="dimc_peak", phases={"load": [0], "compute": [1]})
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from chipemu.emulator.device import Device, Site, as_device
from chipemu.emulator.engine.core import simulate
from chipemu.emulator.errors import ConfigError
from chipemu.emulator.engine.result import Phase, Result
from chipemu.emulator.runtime.machine import Machine

__all__ = ["as_device", "machine_for", "finish"]


def machine_for(device: Device, *, mode: str = "functional", backend: str = "c",
                threads: int | None = None) -> Machine:
    """A fresh Machine (state, buffers, log) for `device`."""
    return Machine(device.engine_params(), mode=mode, backend=backend, threads=threads)


def _phase(name, steps, events, timing, device) -> Phase:
    """A phase's span and energy: its ops' dynamic energy plus static power over its span.

    Static energy is the engine's static total apportioned by cycles (floor), so no second
    energy formula exists here.
    """
    steps = tuple(int(s) for s in steps)
    mask = np.isin(events["step"], steps)
    if not mask.any():
        return Phase(name, steps, 0, 0.0, 0)
    cycles = int(timing.end_cycles[mask].max() - timing.start_cycles[mask].min())
    dynamic = int(timing.energy_fj_event[mask].sum())
    static_total = int(timing.energy_by_component["static"])
    static = static_total * cycles // timing.makespan_cycles if timing.makespan_cycles else 0
    return Phase(name, steps, cycles, device.seconds(cycles), dynamic + static)


def finish(machine: Machine, device: Device, *, kernel: str, output=None,
           metrics: Mapping | None = None, phases: Mapping[str, Iterable[int]] | None = None,
           plan=None, site: Site | None = None) -> Result:
    """Time `machine`'s log on `device` and wrap everything in a Result."""
    log = machine.log
    timing = simulate(log, device.engine_params())
    phase_list = tuple(_phase(n, s, log.events, timing, device) for n, s in (phases or {}).items())
    return Result(output=output, device=device, timing=timing, events=log,
                  site=site or Site(), metrics=dict(metrics or {}), phase_list=phase_list,
                  plan=plan, kernel=kernel)
