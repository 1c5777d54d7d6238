"""The emulated device (`Device`) and where it runs (`Site`).

A `Device` is one frozen, validated config tree (parts in `parts.py`), loaded from a preset
or a TOML file and changed only through `Device.replace`, which re-validates. Every invalid value
raises `ConfigError` naming the dotted field path, the value and what is allowed. Derived figures
(MACs/cycle, peaks, bandwidths) are methods, never fields, so they cannot disagree with the
config. `engine_params()` is the exact input of the C timing/energy engine (`chipemu_device_params`).
Fields, units and the presets' sources: docs/presets.md.
"""
from __future__ import annotations

import functools
import json
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Mapping, NamedTuple

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from chipemu.emulator.device.checks import check_device, check_sources
from chipemu.emulator.device.parts import (VEC_OPS, Chiplet, ChipletGrid, Cycles, Engine, HostLink,
                                           Limited, Part, Power, Root, Tile, config_error)
from chipemu.emulator.errors import ConfigError, FormatError
from chipemu.emulator.numerics.formats import FORMATS, get_format
from chipemu.emulator.tables import formats as _formats, ids as _ids
from chipemu.emulator.tables.limits import fixed as _round_half_even

__all__ = ["Device", "Site", "D2DLink", "PRESET_DIR", "as_device"]

PRESET_DIR = Path(__file__).with_name("presets")
ENGINE_PARAMS_VERSION = _ids.VERSIONS["engine_params_version"]    # CHIPEMU_ENGINE_PARAMS_VERSION
_MISSING = object()


class D2DLink(NamedTuple):
    """A resolved die-to-die link: chiplets a-b, PHY local tile ids, per-direction rate."""

    a: int
    b: int
    phy_a: int
    phy_b: int
    bytes_per_cycle: int
    latency_cycles: int
    pj_per_bit: float


def _plain(v):
    """Plain Python values from numpy scalars, tuples and models (strict validation wants them)."""
    if isinstance(v, Part):
        return v.model_dump(mode="json")
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return v.item()
    return v


def _set_path(data: dict, path: str, value) -> None:
    """Set data[a][b][c] = value for path 'a.b.c' (list items by index); unknown keys: ConfigError."""
    if not isinstance(path, str) or not path:
        raise ConfigError(f"path={path!r}: must be a dotted field path such as "
                          "'tile.sram.capacity_bytes'")
    node, parts = data, path.split(".")
    for i, key in enumerate(parts):
        here = ".".join(parts[:i]) or "the device"
        if isinstance(node, dict):
            if key not in node:
                raise ConfigError(f"path={path!r}: {key!r} is not a field of {here}; "
                                  f"fields: {', '.join(node)}")
        elif isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ConfigError(f"path={path!r}: {key!r} is not an index of {here} ("
                                  + (f"indices 0..{len(node) - 1})" if node else "an empty list)"))
            key = int(key)
        else:
            raise ConfigError(f"path={path!r}: {here} is a value, not a table")
        if i == len(parts) - 1:
            node[key] = value
        else:
            node = node[key]


class Device(Root):
    """An emulated chiplet DIMC accelerator. Build with `Device.preset(name)` or `Device.from_toml`."""

    name: str = Field(min_length=1)
    description: str = ""
    clock_ghz: Limited("clock_ghz")
    barrier_cycles: Cycles                         # fixed cost of a barrier on top of its messages
    chiplets: ChipletGrid
    chiplet: Chiplet
    tile: Tile
    host: HostLink
    power: Power
    engine: Engine = Engine()                      # the timing model (not hardware)
    _sources: Mapping[str, str] = PrivateAttr(default_factory=lambda: MappingProxyType({}))

    # ---- loading --------------------------------------------------------------------------------
    @classmethod
    def presets(cls) -> list[str]:
        """Names of the shipped presets (emulator/device/presets/*.toml)."""
        return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))

    @classmethod
    def preset(cls, name: str) -> Device:
        """A shipped preset by name: 'corsair', 'tiny', 'ring8', ..."""
        if name not in cls.presets():
            raise ConfigError(f"preset={name!r} is unknown; available: {', '.join(cls.presets())}")
        return _load_preset(name)

    @classmethod
    def from_toml(cls, path) -> Device:
        """Load a device file; its optional [sources] table becomes `Device.sources`."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"{path}: cannot read device file: {err.strerror or err}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: invalid TOML: {err}") from None
        return cls.from_dict(data, where=str(path))

    @classmethod
    def from_dict(cls, data: Mapping, *, where: str = "") -> Device:
        """Validate a nested dict (as `to_dict` returns, plus an optional 'sources' table)."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where or 'device'}: must be a table of fields, "
                              f"got {type(data).__name__}")
        data = dict(data)
        sources = data.pop("sources", {})
        try:
            dev = cls.model_validate(data)
        except ValidationError as err:
            raise config_error(err, cls, where) from None
        dev._sources = MappingProxyType(check_sources(sources, dev.to_dict(), where))
        return dev

    @property
    def sources(self) -> Mapping[str, str]:
        """Dotted path -> 'S: ...' (sourced), 'D: ...' (derived) or 'A: ...' (assumed). Read-only."""
        return self._sources

    def to_dict(self) -> dict:
        """Every configured parameter as plain JSON types; `Device.from_dict` of it is this device."""
        return self.model_dump(mode="json")

    def replace(self, path, value=_MISSING) -> Device:
        """A new, re-validated device with one field changed: `replace("tile.sram.capacity_bytes", n)`,
        or several at once: `replace({"tile.dimc.formats": [...], "tile.dimc.fj_per_mac": {...}})`.
        (`model_copy(update=...)` would skip validation; do not use it.)"""
        changes = path if value is _MISSING and isinstance(path, Mapping) else {path: value}
        if value is _MISSING and not isinstance(path, Mapping):
            raise ConfigError(f"replace({path!r}): missing the new value")
        data = self.to_dict()
        for p, v in changes.items():
            _set_path(data, p, _plain(v))
        dev = Device.from_dict(data)
        sources = dict(self._sources)
        if sources:                     # a replaced value no longer has its preset's source
            sources.update({p: "A: set by Device.replace" for p in changes})
        dev._sources = MappingProxyType(sources)
        return dev

    def __eq__(self, other):
        return isinstance(other, Device) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self):
        return (f"Device({self.name!r}: {self.n_chiplets} chiplets x {self.tiles_per_chiplet} tiles, "
                f"{self.clock_ghz:g} GHz)")

    # ---- validation of relations between fields ---------------------------------------------------
    @model_validator(mode="after")
    def _check(self):
        check_device(self)
        return self

    # ---- derived figures ------------------------------------------------------------------------
    @property
    def n_chiplets(self) -> int:
        return self.chiplets.rows * self.chiplets.cols

    @property
    def tiles_per_chiplet(self) -> int:
        return self.chiplet.tile_rows * self.chiplet.tile_cols

    @property
    def n_tiles(self) -> int:
        return self.n_chiplets * self.tiles_per_chiplet

    def _dimc_format(self, fmt):
        spec = get_format(fmt)
        if spec.name not in self.tile.dimc.formats:
            raise FormatError(f"fmt={spec.name!r} is not a DIMC format of device {self.name!r}; "
                              f"supported: {', '.join(self.tile.dimc.formats)}")
        return spec

    def cycles_per_vector(self, act_fmt) -> int:
        """Cycles to stream one input vector bit-serially: ceil(act bits / input bits per cycle)."""
        return -(-self._dimc_format(act_fmt).elem_bits // self.tile.dimc.input_bits_per_cycle)

    def cols_eff(self, weight_fmt) -> int:
        """Weight columns per array: cols x cell_bits / weight bits; 4-bit weights pack 2 per cell."""
        d = self.tile.dimc
        return _formats.cols_eff(d.cols, d.cell_bits, self._dimc_format(weight_fmt).elem_bits)

    def macs_per_cycle(self, act_fmt, weight_fmt=None) -> float:
        """MACs per cycle of one tile: engines x rows x cols_eff / cycles_per_vector."""
        d = self.tile.dimc
        weight_fmt = act_fmt if weight_fmt is None else weight_fmt
        return d.mvm_engines * d.rows * self.cols_eff(weight_fmt) / self.cycles_per_vector(act_fmt)

    def peak_macs_per_second(self, fmt, weight_fmt=None) -> float:
        """Peak MAC/s of the whole device (every tile's engines busy)."""
        return self.macs_per_cycle(fmt, weight_fmt) * self.n_tiles * self.clock_ghz * 1e9

    def peak_flops(self, fmt, weight_fmt=None) -> float:
        """Peak FLOP/s of the whole device, 1 MAC = 2 FLOP."""
        return 2.0 * self.peak_macs_per_second(fmt, weight_fmt)

    def seconds(self, cycles) -> float:
        return cycles / (self.clock_ghz * 1e9)

    @property
    def dimc_weight_bytes(self) -> int:
        """Bytes of DIMC weight cells per tile: slots x rows x cols x cell_bits / 8."""
        d = self.tile.dimc
        return d.weight_slots * d.rows * d.cols * d.cell_bits // 8

    @property
    def sram_buffer_bytes(self) -> int:
        """SRAM bytes per tile left for buffers (capacity minus the DIMC cells if they count in it)."""
        cells = self.dimc_weight_bytes if self.tile.dimc.counts_in_sram else 0
        return self.tile.sram.capacity_bytes - cells

    @property
    def sram_bytes(self) -> int:
        """Total SRAM of the device, bytes."""
        return self.tile.sram.capacity_bytes * self.n_tiles

    @property
    def sram_bytes_per_second(self) -> float:
        """Aggregate SRAM port bandwidth: port bytes/cycle x tiles x clock."""
        return self.tile.sram.port_bytes_per_cycle * self.n_tiles * self.clock_ghz * 1e9

    @property
    def dram_bytes(self) -> int:
        dram = self.chiplet.dram
        return dram.capacity_bytes * dram.channels * self.n_chiplets

    @property
    def dram_bytes_per_second(self) -> float:
        dram = self.chiplet.dram
        return dram.bytes_per_cycle * dram.channels * self.n_chiplets * self.clock_ghz * 1e9

    @property
    def static_w(self) -> float:
        """Static power of the whole device, W."""
        p = self.power
        return p.static_tile_w * self.n_tiles + p.static_chiplet_w * self.n_chiplets + p.static_card_w

    def d2d_links(self) -> list[D2DLink]:
        """Every die-to-die link, resolved. Generated topologies list links in a fixed order (mesh:
        per chiplet its east then south neighbour; ring: i to i+1; all_to_all: pairs i < j); the
        k-th link of a chiplet in that order uses PHY phy_tiles[k % len(phy_tiles)] unless given."""
        g, phys, n = self.chiplets, self.chiplet.phy_tiles, self.n_chiplets
        if g.topology == "links":
            specs = [(k.a, k.b, k.phy_a, k.phy_b, k.bytes_per_cycle, k.latency_cycles, k.pj_per_bit)
                     for k in g.links]
        else:
            if g.topology == "mesh":
                pairs = [(c, c + step) for c in range(n) for step, ok in
                         ((1, c % g.cols + 1 < g.cols), (g.cols, c // g.cols + 1 < g.rows)) if ok]
            elif g.topology == "ring":
                pairs = [(i, (i + 1) % n) for i in range(n if n > 2 else n - 1)]
            else:
                pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
            specs = [(a, b) + (None,) * 5 for a, b in pairs]
        used = [0] * n
        out = []
        for a, b, phy_a, phy_b, rate, latency, pj in specs:
            ends = []
            for chip, given in ((a, phy_a), (b, phy_b)):
                ends.append(given if given is not None else phys[used[chip] % len(phys)])
                used[chip] += 1
            out.append(D2DLink(a, b, ends[0], ends[1],
                               g.link.bytes_per_cycle if rate is None else rate,
                               g.link.latency_cycles if latency is None else latency,
                               g.link.pj_per_bit if pj is None else pj))
        return out

    def engine_params(self) -> dict:
        """The C engine's `chipemu_device_params` as a dict: same field names, energies in integer
        femtojoules (round half to even), static power in integer microwatts."""
        t, c, d = self.tile, self.chiplet, self.tile.dimc
        fj_mac = [0] * len(FORMATS)
        for name in d.formats:
            fj_mac[FORMATS[name].code] = _round_half_even(d.fj_per_mac[name], 0)
        return {
            "version": ENGINE_PARAMS_VERSION,
            "n_chiplets": self.n_chiplets,
            "tile_rows": c.tile_rows, "tile_cols": c.tile_cols,
            "clock_ghz": float(self.clock_ghz),
            "noc_hop_cycles": c.noc.hop_cycles,
            "noc_link_bytes_per_cycle": c.noc.link_bytes_per_cycle,
            "noc_max_packet_bytes": c.noc.max_packet_bytes,
            "network": _ids.NETWORKS[self.engine.network],
            "noc_multicast": _ids.MULTICAST[c.noc.multicast],
            "dma_inject_bytes_per_cycle": t.dma.inject_bytes_per_cycle,
            "dma_eject_bytes_per_cycle": t.dma.eject_bytes_per_cycle,
            "dimc_rows": d.rows, "dimc_cols": d.cols, "dimc_slots": d.weight_slots,
            "dimc_engines": d.mvm_engines, "dimc_cell_bits": d.cell_bits,
            "dimc_input_bits_per_cycle": d.input_bits_per_cycle,
            "dimc_pipeline_cycles": d.pipeline_cycles,
            "dimc_io_bytes_per_cycle": d.io_bytes_per_cycle,
            "dimc_write_cycles_per_row": d.write_cycles_per_row,
            "dimc_write_overlaps_compute": int(d.write_overlaps_compute),
            "sram_port_bytes_per_cycle": t.sram.port_bytes_per_cycle,
            "sram_capacity_bytes": self.sram_buffer_bytes,        # bytes buffers may use
            "vec_lanes": t.vector.lanes,
            "vec_cycles": [t.vector.cycles[op] for op in VEC_OPS],
            "n_links": len(links := self.d2d_links()),
            "links": [{"a": k.a, "b": k.b, "phy_a": k.phy_a, "phy_b": k.phy_b,
                       "bytes_per_cycle": k.bytes_per_cycle, "latency_cycles": k.latency_cycles,
                       "fj_per_bit": _round_half_even(k.pj_per_bit, 3)} for k in links],
            "dram_channels": c.dram.channels,
            "dram_channel_tile": list(c.dram.channel_tiles),
            "dram_bytes_per_cycle": c.dram.bytes_per_cycle,
            "dram_latency_cycles": c.dram.latency_cycles,
            "host_chiplet": self.host.chiplet, "host_tile": self.host.tile,
            "host_bytes_per_cycle": self.host.bytes_per_cycle,
            "host_latency_cycles": self.host.latency_cycles,
            "barrier_cycles": self.barrier_cycles,
            "fj_mac": fj_mac,
            "fj_overhead_per_mac": _round_half_even(self.power.overhead_fj_per_mac, 0),
            "fj_dimc_row_write": _round_half_even(d.write_pj_per_row, 3),
            "fj_sram_read_bit": _round_half_even(t.sram.read_pj_per_bit, 3),
            "fj_sram_write_bit": _round_half_even(t.sram.write_pj_per_bit, 3),
            "fj_noc_bit_hop": _round_half_even(c.noc.pj_per_bit_hop, 3),
            "fj_dram_bit": _round_half_even(c.dram.pj_per_bit, 3),
            "fj_host_bit": _round_half_even(self.host.pj_per_bit, 3),
            "fj_vec_op": [_round_half_even(t.vector.pj_per_element[op], 3)
                          for op in VEC_OPS],
            "static_uw_tile": _round_half_even(self.power.static_tile_w, 6),
            "static_uw_chiplet": _round_half_even(self.power.static_chiplet_w, 6),
            "static_uw_card": _round_half_even(self.power.static_card_w, 6),
        }

    def summary(self) -> dict:
        """Derived headline figures (units in the keys), as `chipemu presets` prints them."""
        links = self.d2d_links()
        return {
            "chiplets": self.n_chiplets, "topology": self.chiplets.topology,
            "tiles_per_chiplet": self.tiles_per_chiplet, "tiles": self.n_tiles,
            "clock_ghz": self.clock_ghz,
            "peak_tflops": {f: self.peak_flops(f) / 1e12 for f in self.tile.dimc.formats},
            "sram_bytes": self.sram_bytes, "sram_tb_per_s": self.sram_bytes_per_second / 1e12,
            "dram_bytes": self.dram_bytes, "dram_gb_per_s": self.dram_bytes_per_second / 1e9,
            "d2d_links": len(links),
            "d2d_gb_per_s_per_link": sorted({k.bytes_per_cycle * self.clock_ghz for k in links}),
            "static_w": self.static_w,
        }


@functools.lru_cache(maxsize=None)
def _load_preset(name: str) -> Device:
    return Device.from_toml(PRESET_DIR / f"{name}.toml")     # frozen, so sharing is safe


class Site(Root):
    """Where the device runs: turns device energy into facility energy, CO2e and water.
    Defaults: US grid 2023 (EIA, 367 g/kWh) and the 2023 industry-average PUE (Uptime, 1.58);
    water is an assumption (hardware-numbers.md §5 leaves it open)."""

    grid_gco2e_per_kwh: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 367.0
    pue: Annotated[float, Field(ge=1, allow_inf_nan=False)] = 1.58
    water_l_per_kwh: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.8
    water_label: str = ("A: assumed on-site water usage effectiveness (L per kWh of IT energy), a "
                        "commonly quoted industry average; not researched, set it for your site")

    def facility_kwh(self, device_j: float) -> float:
        """Facility energy for `device_j` joules at the device: x PUE."""
        return device_j / 3.6e6 * self.pue

    def co2e_g(self, device_j: float) -> float:
        """Grams CO2e (location-based, operational only) for `device_j` joules at the device."""
        return self.facility_kwh(device_j) * self.grid_gco2e_per_kwh

    def water_l(self, device_j: float) -> float:
        """Litres of water for `device_j` joules at the device (WUE is per IT kWh, so no PUE)."""
        return device_j / 3.6e6 * self.water_l_per_kwh


def as_device(device) -> Device:
    """A Device from a Device, a preset name or a TOML path (None: the corsair preset)."""
    if device is None:
        return Device.preset("corsair")
    if isinstance(device, Device):
        return device
    if isinstance(device, str):
        return Device.from_toml(device) if device.endswith(".toml") else Device.preset(device)
    raise ConfigError(f"device={device!r} must be a Device, a preset name or a .toml path")
