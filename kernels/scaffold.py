"""What every kernel shares: argument checks, the barrier, and the run skeleton.

    run = Run("my_kernel", device, mode=mode, backend=backend)   # arguments checked
    run.start(events=..., host_bytes=...)                        # budget checked -> machine
    x = run.host("x", data, nbytes)                              # allocations
    with run.phase("load"):                                      # launches, grouped in phases
        run.launch(LOAD, tiles, p, events_per_tile=4)
    run.barrier(tiles)
    with run.phase("compute"):
        ...
    out = gather(run.machine, ...)                               # read results back
    return run.finish(output=out, plan=plan.to_dict())           # time the log -> Result

matmul, attention, the microbenchmarks and the template kernel (kernels/scale_rows) all use it;
docs/kernels.md shows a kernel written with it from start to end.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.args import strict_keywords
from chipemu.emulator.device import Device, Site, as_device
from chipemu.emulator.engine.core import simulate
from chipemu.emulator.engine.result import Phase, Result
from chipemu.emulator.errors import BackendError, ConfigError, FormatError, ShapeError
from chipemu.emulator.events import EVENT_DTYPE, EventLog
from chipemu.emulator.numerics.formats import DIMC_FORMATS, get_format
from chipemu.emulator.runtime import budget
from chipemu.emulator.runtime.machine import Machine
from chipemu.kernels.barrier import BARRIER_ALL

__all__ = ["Run", "Progress", "as_device", "with_network", "machine_for", "finish", "check_mode",
           "check_backend", "dimc_format", "shape_of", "barrier", "steps_mask",
           "log_bytes", "check_data", "strict_keywords", "gather_cols",
           "elementwise_metrics"]

MODES = ("functional", "timing")
BACKENDS = ("c", "numba")
_FLOAT_KINDS = ("float32", "float16", "bfloat16")


# ---- argument checks (before any work) ----

def check_mode(mode) -> str:
    """mode, or ConfigError listing the modes."""
    return args.choice("mode", mode, MODES)


def check_backend(backend) -> str:
    """backend, or BackendError listing the kernel backends."""
    return args.choice("backend", backend, BACKENDS, error=BackendError)


def check_data(what: str, *shapes, itemsize: int = 4, extra_bytes: int = 0) -> None:
    """The run budget's verdict on the host data a run_* command draws before it plans (arrays
    of `shapes`, `itemsize` bytes an element, plus extra_bytes): a CapacityError up front
    rather than NumPy's out-of-memory error while drawing."""
    n = sum(int(np.prod(s, dtype=object)) for s in shapes)
    budget.check(what, host_bytes=n * itemsize + extra_bytes)


def gather_cols(machine: Machine, buf: int, rows: int, ranges) -> np.ndarray:
    """The float32 [rows, sum of n] array whose columns [c0, c0 + n) are tile t's buffer `buf`
    (rows x n, row-major), for (c0, n) = ranges[t]."""
    ranges = list(ranges)
    out = np.empty((rows, sum(n for _, n in ranges)), np.float32)
    for t, (c0, n) in enumerate(ranges):
        out[:, c0:c0 + n] = machine.read(buf, tile=t, nbytes=rows * n * 4,
                                         dtype=np.float32).reshape(rows, n)
    return out


def elementwise_metrics(r: Result, n: int, **extra) -> Result:
    """r with the metrics of an elementwise op over n elements: its compute-phase cycles,
    elements per cycle and pJ per element (whole run), plus `extra`."""
    cycles = r.phases["compute"]["cycles"]
    r.metrics.update(elements=n, **extra, compute_cycles=cycles,
                     elements_per_cycle=n / cycles if cycles else 0.0,
                     pj_per_element=r.energy_fj / 1000.0 / n)
    return r


def log_bytes(events: int) -> int:
    """Host bytes of an event log of `events` events (records; peers and the engine's per-event
    arrays about double it), for the run budget."""
    return 2 * events * EVENT_DTYPE.itemsize


def dimc_format(name, what: str, device: Device) -> str:
    """The canonical name of a DIMC format the device computes in, or FormatError naming `what`."""
    try:
        spec = get_format(name)
    except Exception:
        raise FormatError(f"{what}={name!r} is not a DIMC format; allowed: "
                          f"{', '.join(DIMC_FORMATS)}") from None
    if spec.name not in DIMC_FORMATS:
        raise FormatError(f"{what}={spec.name!r} is not a DIMC format; allowed: "
                          f"{', '.join(DIMC_FORMATS)}")
    if spec.name not in device.tile.dimc.formats:
        raise FormatError(f"{what}={spec.name!r}: device {device.name!r} computes only in "
                          f"{', '.join(device.tile.dimc.formats)}")
    return spec.name


def _dims(shape, what, zero_ok):
    """shape as ints, or ShapeError: every dimension >= 1 (>= 0 on the axes in zero_ok)."""
    for i, v in enumerate(shape):
        if v < (0 if i in zero_ok else 1):
            raise ShapeError(f"{what} has shape {shape}: dimension {i} is {v}; allowed: an "
                             f"integer >= {0 if i in zero_ok else 1}")
    return shape


def shape_of(x, what: str, timing: bool, zero_ok: tuple = ()):
    """(shape, array or None) of a kernel input: a float32/float16/bfloat16 array, or in timing
    mode also a shape tuple (then the array is None). Every dimension must be >= 1 (>= 0 on the
    axes in zero_ok). Masked arrays are refused: the kernels have no use for a mask there and
    would silently compute on the hidden values."""
    if isinstance(x, tuple) and not timing:
        raise ShapeError(f"{what}={x!r} is a shape: functional mode needs arrays (a shape tuple "
                         f"works in timing mode)")
    if timing and isinstance(x, tuple):
        if not x or not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                            for v in x):
            raise ShapeError(f"{what}={x!r}: a shape must be a non-empty tuple of integers")
        return _dims(tuple(int(v) for v in x), what, zero_ok), None
    if isinstance(x, np.ma.MaskedArray):
        raise ShapeError(f"{what} is a NumPy masked array; allowed: a plain array (fill the "
                         f"masked values first, e.g. {what}.filled(0))")
    try:                # plain ndarray (subclasses such as np.matrix behave differently)
        x = np.asarray(x)
    except Exception:
        raise ShapeError(f"{what} must be an array (or a shape tuple in timing mode), got "
                         f"{type(x).__name__}") from None
    if x.dtype.name not in _FLOAT_KINDS:
        raise ShapeError(f"{what} has dtype {x.dtype}; allowed: float32, float16, bfloat16"
                         + (" (or a shape tuple in timing mode)" if timing else ""))
    return _dims(tuple(x.shape), what, zero_ok), x


def with_network(device: Device, network=None) -> Device:
    """device, timed with network model `network` ("packet" | "message"; None: the device's own,
    `device.engine.network`). ConfigError names any other value."""
    if network is None or network == device.engine.network:
        return device
    return device.replace({"engine.network": network})


@dataclass(frozen=True)
class Progress:
    """Where a kernel run is, as a progress callback sees it: while it launches, `phase` is the
    current phase ("" outside one); while the engine times the log, "timing"."""

    kernel: str
    phase: str
    supersteps: int          # launched so far
    events: int              # logged so far
    events_timed: int = 0    # ops the engine has completed (of `events`)


def check_progress(progress):
    """progress, or ConfigError: None or a callable taking a Progress."""
    if progress is not None and not callable(progress):
        raise ConfigError(f"progress={progress!r}; allowed: None (quiet) or a callable "
                          f"progress(p: Progress)")
    return progress


# ---- machine, barrier, result ----

def machine_for(device: Device, *, mode: str = "functional", backend: str = "c",
                threads: int | None = None) -> Machine:
    """A fresh Machine (state, buffers, log) for `device`, which enforces its DRAM capacity."""
    return Machine(device, mode=mode, backend=backend, threads=threads)


def barrier(machine: Machine, tiles) -> int:
    """One superstep in which `tiles` wait for each other (BARRIER_ALL); returns its events."""
    tiles = [int(t) for t in tiles]
    return machine.launch(BARRIER_ALL, tiles, [len(tiles)] + tiles, events_per_tile=1,
                          peers_per_tile=len(tiles), stage_bytes_per_tile=0)


def steps_mask(events, steps) -> np.ndarray:
    """Boolean mask of the events in `steps` (the log's supersteps never decrease: binary search,
    not a scan per step)."""
    step = np.ascontiguousarray(events["step"])     # one copy: a field of the records is strided
    want = np.unique(np.asarray(list(steps), dtype=step.dtype))
    lo, hi = np.searchsorted(step, want, "left"), np.searchsorted(step, want, "right")
    mask = np.zeros(len(step), bool)
    for a, b in zip(lo.tolist(), hi.tolist()):
        mask[a:b] = True
    return mask


def _phase(name, steps, events, timing, device) -> Phase:
    """A phase's span and energy: its ops' dynamic energy plus static power over its span.

    Static energy is the engine's static total apportioned by cycles (floor), so no second
    energy formula exists here.
    """
    steps = tuple(int(s) for s in steps)
    mask = steps_mask(events, steps)
    if not mask.any():
        return Phase(name, steps, 0, 0.0, 0)
    cycles = int(timing.end_cycles[mask].max() - timing.start_cycles[mask].min())
    dynamic = int(timing.energy_fj_event[mask].sum())
    static_total = int(timing.energy_by_component["static"])
    static = static_total * cycles // timing.makespan_cycles if timing.makespan_cycles else 0
    return Phase(name, steps, cycles, device.seconds(cycles), dynamic + static)


def finish(machine: Machine, device: Device, *, kernel: str, output=None,
           metrics: Mapping | None = None, phases: Mapping[str, Iterable[int]] | None = None,
           plan=None, site: Site | None = None,
           progress: Callable[[Progress], None] | None = None, keep_log: bool = False) -> Result:
    """Time `machine`'s log on `device` and wrap everything in a Result. keep_log: give the
    Result its own copy of the log (the machine's log is a view that the machine's next run,
    after clear_log, writes over: a card's or a KV cache's)."""
    log = machine.log
    if keep_log:
        log = EventLog(log.events.copy(), log.peers.copy(), log.buffers.copy())
    tell = None if progress is None else (
        lambda done, n: progress(Progress(kernel, "timing", machine.step, n, done)))
    timing = simulate(log, device.engine_params(), progress=tell)
    phase_list = tuple(_phase(n, s, log.events, timing, device) for n, s in (phases or {}).items())
    return Result(output=output, device=device, timing=timing, events=log,
                  site=site or Site(), metrics=dict(metrics or {}), phase_list=phase_list,
                  plan=plan, kernel=kernel)


class Run:
    """One kernel run (see the module docstring): the device, its Machine, the phases' supersteps.

    device: a Device, preset name or .toml path (None: corsair); mode "functional" | "timing";
    backend "c" | "numba"; network: the engine's network model, "packet" | "message" (None: the
    device's). machine: an existing Machine to run on (e.g. a KV cache's, whose state persists
    between runs); then mode and backend are the machine's. progress: None (quiet) or a callable
    given a Progress after every superstep and about every 0.1 s while the engine runs.

    The constructor checks every argument and creates nothing; `start(events=, host_bytes=)`
    checks the plan's estimate against the run budget (runtime/budget.py) and creates the
    Machine, so a run too large is refused before any memory is taken. `machine` creates it
    on first use without that check.
    """

    def __init__(self, kernel: str, device=None, *, mode: str = "functional", backend: str = "c",
                 machine: Machine | None = None, network: str | None = None,
                 progress: Callable[[Progress], None] | None = None):
        self.kernel = kernel
        self.progress = check_progress(progress)
        if machine is None:
            self.mode, self.backend = check_mode(mode), check_backend(backend)
        else:
            self.mode, self.backend = machine.mode, machine.backend
        self.device = with_network(as_device(device), network)
        self._machine = machine
        self._shared = machine is not None          # a machine that outlives this run
        self.timing = self.mode == "timing"
        self.phases: dict[str, list[int]] = {}
        self._current: str | None = None

    def start(self, *, events: int = 0, host_bytes: int = 0) -> Machine:
        """Refuse (CapacityError) a run estimated beyond the budget, else the Machine: created
        now, or the one given. host_bytes: the run's own arrays; the log's are added here."""
        budget.check(f"{self.kernel} on {self.device.name!r}", events=int(events),
                     host_bytes=int(host_bytes) + log_bytes(int(events)))
        return self.machine

    @property
    def machine(self) -> Machine:
        if self._machine is None:
            self._machine = machine_for(self.device, mode=self.mode, backend=self.backend)
        return self._machine

    @contextmanager
    def phase(self, name: str):
        """Launches inside the block belong to phase `name` (Result.phases[name])."""
        outer, self._current = self._current, name
        self.phases.setdefault(name, [])
        try:
            yield self
        finally:
            self._current = outer

    def _record(self, first: int):
        if self._current is not None:
            self.phases[self._current].extend(range(first, self.machine.step))
        if self.progress is not None:
            self.progress(Progress(self.kernel, self._current or "", self.machine.step,
                                   self.machine.n_events))

    def launch(self, kernel, tiles, params=(), **caps) -> int:
        """Machine.launch, its superstep counted in the current phase."""
        first = self.machine.step
        n = self.machine.launch(kernel, tiles, params, **caps)
        self._record(first)
        return n

    def barrier(self, tiles) -> int:
        """A barrier superstep over `tiles`, counted in the current phase."""
        first = self.machine.step
        n = barrier(self.machine, tiles)
        self._record(first)
        return n

    def host(self, name: str, data=None, nbytes: int | None = None) -> int:
        """A HOST buffer: `data` in functional mode; in timing mode only its size (nbytes, or
        data's bytes when given). Returns its id."""
        if self.timing:
            if nbytes is None:
                nbytes = np.asarray(data).nbytes
            return self.machine.alloc_host(name, nbytes=max(int(nbytes), 1))
        return self.machine.alloc_host(name, data)

    def finish(self, *, output=None, metrics: Mapping | None = None, plan=None,
               site: Site | None = None, phases: Mapping[str, Iterable[int]] | None = None) -> Result:
        """Time the log and return the Result (phases: the recorded ones unless given)."""
        return finish(self.machine, self.device, kernel=self.kernel, output=output,
                      metrics=metrics, phases=self.phases if phases is None else phases,
                      plan=plan, site=site, progress=self.progress,
                      keep_log=self._shared)
