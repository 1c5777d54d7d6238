"""The checks of a Device that relate its fields (the parts check single values), and of its
[sources] table. Every failure is a ConfigError naming the full dotted path, the value and what is
allowed (docs/presets.md); the limits come from tables.limits, as in the runtime and the C engine."""
from __future__ import annotations

import re
from typing import Mapping

from chipemu.emulator.errors import ConfigError
from chipemu.emulator.numerics.formats import FORMATS
from chipemu.emulator.tables.limits import LIMIT, fixed

__all__ = ["check_device", "check_sources"]


class _Shown(str):
    """A value summary printed as is (no quotes) in an error message."""

    def __repr__(self):
        return str(self)


def _fail(path: str, value, allowed: str):
    raise ConfigError(f"{path}={value!r}: {allowed}")


def check_device(dev) -> None:
    """The checks that relate fields of a Device; raise ConfigError naming the full dotted path."""
    d, chip, g, n = dev.tile.dimc, dev.chiplet, dev.chiplets, dev.n_chiplets
    for path, value, lim in (("chiplets.rows x chiplets.cols", n, LIMIT["n_chiplets"]),
                             ("chiplet.tile_rows x chiplet.tile_cols", dev.tiles_per_chiplet,
                              LIMIT["n_tiles"]),
                             ("chiplets.rows x chiplets.cols x chiplet.tile_rows x "
                              "chiplet.tile_cols", dev.n_tiles, LIMIT["n_tiles"])):
        if not lim.ok(value):                   # the limits of quantities no one field holds
            _fail(path, _Shown(value), f"allowed: {lim.allowed()}")
    for name in d.formats:       # every enabled format must fit the array geometry
        spec = FORMATS[name]
        if d.rows % spec.block_size:
            _fail("tile.dimc.rows", d.rows, f"must be a multiple of every DIMC format's block size "
                  f"({name}: {spec.block_size}; formats {d.formats})")
        if d.cell_bits % spec.elem_bits:
            _fail("tile.dimc.cell_bits", d.cell_bits, f"must be a multiple of every DIMC format's "
                  f"element bits ({name}: {spec.elem_bits})")
    missing = [f for f in d.formats if f not in d.fj_per_mac]
    extra = [f for f in d.fj_per_mac if f not in d.formats]
    if missing or extra:
        _fail("tile.dimc.fj_per_mac", d.fj_per_mac, f"needs exactly one energy per format of "
              f"tile.dimc.formats {d.formats}; missing {missing}, not enabled {extra}")
    if (d.cols * d.cell_bits) % 8:              # a row of cells is whole bytes (as the runtime's)
        _fail("tile.dimc.cols", d.cols, f"cols x cell_bits ({d.cell_bits}) must be a multiple of "
              "8 bits (a row of cells is whole bytes)")
    p, static = dev.power, LIMIT["static_uw"]
    total = (fixed(p.static_tile_w, 6) * dev.n_tiles + fixed(p.static_chiplet_w, 6) * n
             + fixed(p.static_card_w, 6))
    if not static.ok(total):
        _fail("power", _Shown(f"<static power {total / 1e6:g} W over {dev.n_tiles} tiles and {n} "
                              "chiplets>"), f"allowed: at most {static.highest / 1e6:g} W in all "
              f"({static.why})")
    if d.counts_in_sram and dev.sram_buffer_bytes <= 0:
        _fail("tile.sram.capacity_bytes", dev.tile.sram.capacity_bytes, "must exceed the DIMC "
              f"cells it holds (counts_in_sram: {d.weight_slots} slots x {d.rows} x {d.cols} cells x "
              f"{d.cell_bits} bits = {dev.dimc_weight_bytes} bytes)")

    tiles = dev.tiles_per_chiplet
    mesh = f"a local tile id in 0..{tiles - 1} of the {chip.tile_rows}x{chip.tile_cols} tile mesh"
    for i, t in enumerate(chip.phy_tiles):
        if t >= tiles:
            _fail(f"chiplet.phy_tiles.{i}", t, f"must be {mesh}")
    if len(set(chip.phy_tiles)) != len(chip.phy_tiles):
        _fail("chiplet.phy_tiles", chip.phy_tiles, "lists a tile twice")
    dram = chip.dram
    if len(dram.channel_tiles) != dram.channels:
        _fail("chiplet.dram.channel_tiles", dram.channel_tiles,
              f"must list one attach tile per channel (chiplet.dram.channels = {dram.channels})")
    for i, t in enumerate(dram.channel_tiles):
        if t >= tiles:
            _fail(f"chiplet.dram.channel_tiles.{i}", t, f"must be {mesh}")
    if dev.host.chiplet >= n:
        _fail("host.chiplet", dev.host.chiplet, f"must be a chiplet id in 0..{n - 1}")
    if dev.host.tile >= tiles:
        _fail("host.tile", dev.host.tile, f"must be {mesh}")

    if g.topology != "links" and g.links:
        _fail("chiplets.links", _Shown(f"<{len(g.links)} links>"),
              f"is used only with topology 'links' (topology is {g.topology!r})")
    seen = {}
    for i, k in enumerate(g.links if g.topology == "links" else ()):
        for end in ("a", "b"):
            if getattr(k, end) >= n:
                _fail(f"chiplets.links.{i}.{end}", getattr(k, end),
                      f"must be a chiplet id in 0..{n - 1} ({g.rows}x{g.cols} chiplets)")
        if k.a == k.b:
            _fail(f"chiplets.links.{i}", _Shown(f"{k.a}-{k.b}"),
                  "a link must join two different chiplets")
        pair = (min(k.a, k.b), max(k.a, k.b))
        if pair in seen:
            _fail(f"chiplets.links.{i}", _Shown(f"{k.a}-{k.b}"),
                  f"duplicates chiplets.links.{seen[pair]} "
                  "(at most one link per chiplet pair)")
        seen[pair] = i
        for end in ("phy_a", "phy_b"):
            v = getattr(k, end)
            if v is not None and v not in chip.phy_tiles:
                _fail(f"chiplets.links.{i}.{end}", v, f"must be one of chiplet.phy_tiles "
                      f"{chip.phy_tiles}" + ("" if v < tiles else f", and {mesh}"))
    if n > 1 and not chip.phy_tiles:
        _fail("chiplet.phy_tiles", [], f"must name at least one D2D PHY tile ({n} chiplets)")

    links = dev.d2d_links()
    if not LIMIT["n_links"].ok(len(links)):
        _fail("chiplets", _Shown(f"<{len(links)} die-to-die links>"),
              f"allowed: {LIMIT['n_links'].allowed()}")
    rows, cols = chip.tile_rows, chip.tile_cols
    channels = n * chip.dram.channels
    for name, value in (("n_resources", dev.n_tiles * (d.mvm_engines + 6) + 2 * n * (
            rows * (cols - 1) + cols * (rows - 1)) + 2 * len(links) + channels + 1),
                        ("memory_regions", dev.n_tiles * (1 + d.weight_slots) + channels)):
        if not LIMIT[name].ok(value):           # the engine's tables (engine.c check_params)
            _fail("chiplets, chiplet, tile", _Shown(f"<{name} {value}>"),
                  f"allowed: {LIMIT[name].allowed()}; {name} = {LIMIT[name].of}")
    adj = {c: [] for c in range(n)}
    for k in links:
        adj[k.a].append(k.b)
        adj[k.b].append(k.a)
    reached, todo = {0}, [0]
    while todo:
        for nb in adj[todo.pop()]:
            if nb not in reached:
                reached.add(nb)
                todo.append(nb)
    if len(reached) < n:
        lost = sorted(set(range(n)) - reached)
        _fail("chiplets.links", _Shown(f"<{len(g.links)} links>"), f"leave chiplets {lost} "
              "unreachable from chiplet 0; every chiplet must be reachable over die-to-die links")


_TAG = re.compile(r"[SDA]: \S")
_TAGS = "'S: <source>', 'D: <arithmetic>' or 'A: <assumption>'"


def check_sources(sources, data: dict, where: str) -> dict:
    """The [sources] table: each key a dotted path of a field of this device, each value a tag."""
    head = f"{where + ': ' if where else ''}sources"
    if not isinstance(sources, Mapping):
        raise ConfigError(f"{head}={sources!r}: must be a table mapping dotted field paths to "
                          f"{_TAGS}")
    for path, tag in sources.items():
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise ConfigError(f"{head}.{path}={tag!r}: must be a string tagged {_TAGS}")
        node = data
        for key in path.split(".") if isinstance(path, str) else [None]:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise ConfigError(f"{head}: {path!r} is not a field of the device; keys are dotted "
                                  "field paths such as 'tile.sram.capacity_bytes' or "
                                  "'chiplets.links.0'")
    return dict(sources)
