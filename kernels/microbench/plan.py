"""The microbenchmarks' argument checks and run estimates (the drivers are in api.py).

Every keyword is checked with chipemu.emulator.args (booleans are not integers, strings are not
numbers) and every size against the device (SRAM per tile, DRAM per channel) before anything is
allocated; then the run's events and host bytes are estimated from the plan and checked against
the run budget (chipemu.emulator.runtime.budget), so a careless `iterations=10**9` is a
CapacityError naming the figure and how to raise the limit, not an hour of work. Timing mode
holds no data, so its host-byte estimate is 0.
"""
from __future__ import annotations

from dataclasses import dataclass

from chipemu.emulator import args
from chipemu.emulator.device import Device, as_device
from chipemu.emulator.errors import BackendError, CapacityError, FormatError, ShapeError
from chipemu.emulator.numerics import layout
from chipemu.emulator.runtime import budget
from chipemu.emulator.runtime.machine import Machine
from chipemu.emulator.tables.formats import DIMC_MIN_ELEM_BITS, cols_eff
from chipemu.emulator.tables.limits import LIMIT
from chipemu.kernels.scaffold import (MODES, Run, check_progress, dimc_format, log_bytes,
                                     with_network)

__all__ = ["keywords", "Common", "common", "start", "align", "count", "tile_id",
           "tile_list", "sram_need", "fits_sram", "fits_dram", "dimc_bytes", "stage_bytes",
           "check_run", "dimc_sizes", "dimc_nvec", "dimc_formats"]

_COUNT = LIMIT["count"].highest          # bytes of one send / read (the intrinsics' bound)
_ALIGN = 64                              # the runtime's buffer alignment


keywords = args.strict_keywords        # the microbenchmarks' keyword check (emulator/args.py)


@dataclass(frozen=True)
class Common:
    """The checked common arguments of a microbenchmark."""

    kernel: str
    device: Device
    mode: str
    backend: str
    progress: object

    @property
    def functional(self) -> bool:
        return self.mode == "functional"


def common(kernel, device, backend, mode, network, progress) -> Common:
    """device, backend, mode, network and progress checked (nothing built yet)."""
    mode = args.choice("mode", mode, MODES)
    backend = args.choice("backend", backend, ("c", "numba"), error=BackendError)
    check_progress(progress)
    return Common(kernel, with_network(as_device(device), network), mode, backend, progress)


def start(c: Common) -> Run:
    """The Run, on a Machine given the Device itself, so its DRAM capacity is enforced too."""
    m = Machine(c.device, mode=c.mode, backend=c.backend)
    return Run(c.kernel, c.device, machine=m, progress=c.progress)


def align(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def count(name, value, lo=1, hi=_COUNT, why=""):
    """An integer keyword in [lo, hi], or ShapeError naming it."""
    return args.integer(name, value, lo, hi, error=ShapeError, why=why)


def tile_id(name, value, dev: Device) -> int:
    return count(name, value, 0, dev.n_tiles - 1, why="the device's tiles")


def tile_list(name, value, dev: Device) -> list:
    """A non-empty list of distinct tile ids."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ShapeError(f"{name}={value!r}; allowed: None or a sequence of tile ids "
                         f"0..{dev.n_tiles - 1}")
    tiles = [tile_id(name, t, dev) for t in value]
    if not tiles:
        raise ShapeError(f"{name}=[] names no tile; allowed: a non-empty sequence of tile ids")
    if len(set(tiles)) != len(tiles):
        raise ShapeError(f"{name}={tiles!r} names a tile twice")
    return tiles


def sram_need(sizes, round_last=False) -> int:
    """SRAM bytes per tile that buffers of `sizes` take, allocated in order (each starts
    64-byte aligned; round_last: the last one's end rounded up too)."""
    sizes = list(sizes)
    return sum(align(b) for b in sizes[:-1]) + (align(sizes[-1]) if round_last else sizes[-1])


def fits_sram(what: str, sizes, dev: Device, round_last=False) -> int:
    """sram_need(sizes), or CapacityError naming `what`, the bytes needed and the bytes a tile
    has for buffers."""
    need, have = sram_need(sizes, round_last), dev.sram_buffer_bytes
    if need > have:
        raise CapacityError(f"{what} needs {need:,} bytes of SRAM per tile; device "
                            f"{dev.name!r} has {have:,} for buffers (tile.sram.capacity_bytes)")
    return need


def fits_dram(what: str, nbytes: int, dev: Device) -> None:
    """CapacityError unless nbytes fit one DRAM channel (and one buffer)."""
    have = dev.chiplet.dram.capacity_bytes
    if nbytes > have:
        raise CapacityError(f"{what} needs {nbytes:,} bytes of one DRAM channel; device "
                            f"{dev.name!r} has {have:,} per channel (chiplet.dram.capacity_bytes)")
    most = LIMIT["buffer_bytes"].highest
    if nbytes > most:
        raise ShapeError(f"{what} needs a DRAM buffer of {nbytes:,} bytes; allowed: at most "
                         f"{most:,} ({LIMIT['buffer_bytes'].why})")


def dimc_bytes(dev: Device) -> int:
    """Host bytes of every tile's DIMC slots (functional mode; runtime/state.py)."""
    d = dev.tile.dimc
    cmax = cols_eff(d.cols, d.cell_bits, DIMC_MIN_ELEM_BITS)
    return dev.n_tiles * d.weight_slots * (d.rows + -(-d.rows // 32)) * cmax


def stage_bytes(n_tiles: int, sram_used: int) -> int:
    """The staging area of a launch on n_tiles with the default stage_bytes_per_tile."""
    return n_tiles * max(4096, sram_used)


def check_run(c: Common, detail: str, *, events: int, host_bytes: int,
              supersteps: int = 0) -> None:
    """The run budget's verdict on the plan: its events, supersteps and host bytes (the data and
    state's only in functional mode; the log's in both)."""
    budget.check(f"{c.kernel} ({detail})", events=events, supersteps=supersteps,
                 host_bytes=(host_bytes if c.functional else 0) + log_bytes(events))


def dimc_sizes(dev: Device, fa: str, fw: str, nvec: int, slots: int):
    """dimc_peak's SRAM buffers: weights, fp32 activations, quantized activations, one y per
    engine."""
    k, cols = dev.tile.dimc.rows, dev.cols_eff(fw)
    return (layout.weight_bytes(fw, k, cols), nvec * k * 4, layout.row_bytes(fa, k) * nvec,
            nvec * cols * 4 * slots)


def dimc_nvec(c: Common, nvec, fa: str, fw: str, slots: int) -> int:
    """nvec checked against SRAM, or the default: the largest power of two up to 256 whose
    buffers fit (each rounded up to the allocator's 64 bytes)."""
    dev = c.device
    what = f"{c.kernel} with fmt={fa!r}, weight_fmt={fw!r}"
    if nvec is None:
        nvec = 256
        while nvec > 1 and sram_need(dimc_sizes(dev, fa, fw, nvec, slots), True) > \
                dev.sram_buffer_bytes:
            nvec //= 2
    else:
        nvec = count("nvec", nvec, 1, _COUNT // dev.tile.dimc.rows,
                     why="nvec x tile.dimc.rows elements stay in int32")
    fits_sram(f"{what}, nvec={nvec}", dimc_sizes(dev, fa, fw, nvec, slots), dev)
    return nvec


def dimc_formats(c: Common, fmt, weight_fmt):
    """(activation, weight) format names: strings the device computes in (not format codes)."""
    for name, v in (("fmt", fmt), ("weight_fmt", weight_fmt)):
        if not isinstance(v, str) and not (name == "weight_fmt" and v is None):
            raise FormatError(f"{name}={v!r} ({type(v).__name__}) is not a format name; allowed: "
                              f"{', '.join(c.device.tile.dimc.formats)}")
    fa = dimc_format(fmt, "fmt", c.device)
    fw = fa if weight_fmt is None else dimc_format(weight_fmt, "weight_fmt", c.device)
    return fa, fw
