"""The parts of a `Device` config: one frozen pydantic model per hardware block.

Field constraints check single values; the checks that relate fields (formats vs array rows, tiles
vs the mesh, the link graph) live in `Device` because only it sees the whole tree and can name the
full dotted path. Units are in the names: `_cycles`, `_bytes`, `_bytes_per_cycle`, `_pj_per_bit`,
`_fj_per_mac`, `_ghz`, `_w`. docs/presets.md describes every field.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from chipemu.emulator.errors import ConfigError
from chipemu.emulator.events import VOPS
from chipemu.emulator.numerics.formats import DIMC_FORMATS
from chipemu.emulator.tables.limits import LIMIT, LIMITS, fixed

__all__ = ["U32_MAX", "VEC_OPS", "Part", "Root", "LinkParams", "ExplicitLink",
           "ChipletGrid", "Noc", "Dram", "Chiplet", "Dimc", "Sram", "Vector", "Dma", "Tile",
           "HostLink", "Power", "config_error"]

U32_MAX = 2**32 - 1
# vector op kinds in CHIPEMU_VOP_* code order: the engine's per-op lists follow it
VEC_OPS = tuple(sorted(VOPS, key=VOPS.get))

# The C engine stores most sizes as uint32, so bound them here rather than overflow there.
Count = Annotated[int, Field(ge=1, le=U32_MAX)]           # sizes and rates: zero is meaningless
Cycles = Annotated[int, Field(ge=0, le=U32_MAX)]          # latencies may be zero
Index = Annotated[int, Field(ge=0, le=U32_MAX)]           # ids; range-checked against the mesh later
Bytes64 = Annotated[int, Field(ge=1, le=2**63 - 1)]       # capacities (int64 in C)


def Limited(name: str):
    """The type of a Device field bounded by the limits table (tables.limits): the same
    [lowest, highest] the runtime and the C engine enforce; config_error adds the reason. A row
    with a `scale` bounds a float by its C value fixed(v, scale), exactly as the engine sees it."""
    lim = LIMIT[name]
    if lim.scale is None:
        return Annotated[int, Field(ge=lim.lowest, le=lim.highest)]
    lo, hi = lim.device_range()

    def check(v: float) -> float:               # float bounds (the clock): the double itself
        if not lim.ok(v if isinstance(lim.lowest, float) else fixed(v, lim.scale)):
            raise ValueError(f"must be in [{lo:g}, {hi:g}] ({lim.why})")
        return v
    return Annotated[float, Field(allow_inf_nan=False), AfterValidator(check)]


_LIMIT_OF_PATH = {lim.device: lim for lim in LIMITS if lim.device}


def limit_of_path(path: str):
    """The limit bounding the Device field at `path` (a table field: any of its entries)."""
    return _LIMIT_OF_PATH.get(path) or _LIMIT_OF_PATH.get(path.rpartition(".")[0])


LinkEnergy = Limited("fj_link_bit")


class Part(BaseModel):
    """Base of every config model: frozen, no unknown keys, no silent type coercion (strict)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def __setattr__(self, name, value):
        if name.startswith("_"):                 # private attributes (Device._sources) are ours
            return super().__setattr__(name, value)
        raise ConfigError(f"{type(self).__name__}.{name}={value!r}: configs are frozen; make a "
                          "changed copy with device.replace('<dotted.path>', value)")

    def __delattr__(self, name):
        raise ConfigError(f"{type(self).__name__}.{name}: configs are frozen; fields cannot be "
                          "deleted")


class Root(Part):
    """A config model users construct directly (Device, Site): errors become ConfigError.
    Only roots override __init__: pydantic calls a custom __init__ for nested models too, which
    would cut the dotted path of a nested error short."""

    def __init__(self, **data):
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise config_error(err, type(self)) from None


class LinkParams(Part):
    """One die-to-die link, full duplex; the rate is per direction."""

    bytes_per_cycle: Count
    latency_cycles: Cycles
    pj_per_bit: LinkEnergy


class ExplicitLink(Part):
    """A link of topology "links": chiplets a and b; omitted fields take `ChipletGrid.link`'s values
    and omitted PHYs are assigned round-robin like the generated topologies."""

    a: Index
    b: Index
    phy_a: Optional[Index] = None
    phy_b: Optional[Index] = None
    bytes_per_cycle: Optional[Count] = None
    latency_cycles: Optional[Cycles] = None
    pj_per_bit: Optional[LinkEnergy] = None


class ChipletGrid(Part):
    """Chiplets (ids row-major over rows x cols) and the die-to-die links joining them."""

    rows: Count
    cols: Count
    topology: Literal["mesh", "ring", "all_to_all", "links"]
    link: LinkParams                               # every generated link; defaults for explicit ones
    links: list[ExplicitLink] = []                 # topology "links" only


class Noc(Part):
    """The 2D-mesh network on each chiplet (XY routing)."""

    hop_cycles: Cycles                             # router + link traversal per hop
    link_bytes_per_cycle: Count
    pj_per_bit_hop: Limited("fj_noc_bit_hop")
    max_packet_bytes: Count
    multicast: Literal["unicast", "tree"] = "unicast"   # tree: routers copy packets (engine.md 4)


class Dram(Part):
    """DRAM channels of one chiplet, each attached to a local tile."""

    channels: Limited("dram_channels")
    capacity_bytes: Bytes64                        # per channel
    bytes_per_cycle: Count                         # per channel
    latency_cycles: Cycles
    pj_per_bit: Limited("fj_dram_bit")
    channel_tiles: list[Index]                     # local tile id per channel


class Chiplet(Part):
    """One chiplet (all chiplets are identical): tile mesh, NoC, DRAM, D2D PHY tiles."""

    tile_rows: Count
    tile_cols: Count
    phy_tiles: list[Index] = []                    # local ids (row * tile_cols + col) of D2D PHYs
    noc: Noc
    dram: Dram


class Dimc(Part):
    """The digital in-memory-compute arrays of a tile. MACs/cycle is derived, never configured."""

    rows: Limited("dimc_rows")                     # K: weight rows summed per output
    cols: Limited("dimc_cols")                     # N: weight cells per row
    weight_slots: Limited("dimc_slots")            # arrays of rows x cols cells
    cell_bits: Limited("dimc_cell_bits") = 8       # narrower weights pack cell_bits // bits per cell
    mvm_engines: Limited("dimc_engines")           # engines computing concurrently on any slots
    input_bits_per_cycle: Count                    # bit-serial input: cycles/vector = ceil(bits / this)
    formats: list[str]                             # subset of formats.DIMC_FORMATS
    pipeline_cycles: Cycles                        # fixed latency of every MVM
    io_bytes_per_cycle: Count                      # the engines' own path to x and y (not the SRAM port)
    write_cycles_per_row: Count
    write_pj_per_row: Limited("fj_dimc_row_write")
    write_overlaps_compute: bool
    counts_in_sram: bool                           # weight cells are part of sram.capacity_bytes
    fj_per_mac: dict[str, Limited("fj_mac")]       # per act format, 8-bit weights; 4-bit cost half

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, v):
        if not v:
            raise ValueError(f"must name at least one DIMC format; valid: {', '.join(DIMC_FORMATS)}")
        for name in v:
            if name not in DIMC_FORMATS:
                raise ValueError(f"{name!r} is not a DIMC format; valid: {', '.join(DIMC_FORMATS)}")
        if len(set(v)) != len(v):
            raise ValueError("lists a format twice")
        return v


class Sram(Part):
    """Tile SRAM: one port shared by the DMA, the vector unit and DIMC weight writes."""

    capacity_bytes: Bytes64
    port_bytes_per_cycle: Count
    read_pj_per_bit: Limited("fj_sram_read_bit")
    write_pj_per_bit: Limited("fj_sram_write_bit")


def _per_op(v: dict, what: str) -> dict:
    """Exactly one entry per vector op kind, returned in CHIPEMU_VOP order."""
    missing = [op for op in VEC_OPS if op not in v]
    unknown = [k for k in v if k not in VEC_OPS]
    if missing or unknown:
        raise ValueError(f"needs {what} for exactly the op kinds {', '.join(VEC_OPS)}; "
                         f"missing {missing}, unknown {unknown}")
    return {op: v[op] for op in VEC_OPS}


class Vector(Part):
    """The tile's vector unit: `lanes` elements per batch; cycles per batch and pJ per element
    for each op kind of VEC_OPS."""

    lanes: Count
    cycles: dict[str, Limited("vec_cycles")]
    pj_per_element: dict[str, Limited("fj_vec_op")]

    @field_validator("cycles")
    @classmethod
    def _cycles_per_op(cls, v):
        return _per_op(v, "cycles")

    @field_validator("pj_per_element")
    @classmethod
    def _energy_per_op(cls, v):
        return _per_op(v, "an energy")


class Dma(Part):
    """The tile's DMA ports into and out of the NoC."""

    inject_bytes_per_cycle: Count
    eject_bytes_per_cycle: Count


class Tile(Part):
    dimc: Dimc
    sram: Sram
    vector: Vector
    dma: Dma


class HostLink(Part):
    """Where inputs and weights come from: one link into one tile of one chiplet."""

    bytes_per_cycle: Count
    latency_cycles: Cycles
    pj_per_bit: Limited("fj_host_bit")
    chiplet: Index
    tile: Index                                    # local tile id


class Power(Part):
    """Static power per component and the labelled overhead energy term (an assumption)."""

    static_tile_w: Limited("static_uw_tile")
    static_chiplet_w: Limited("static_uw_chiplet")
    static_card_w: Limited("static_uw_card")
    overhead_fj_per_mac: Limited("fj_overhead_per_mac")
    overhead_label: str = Field(min_length=1)


class Engine(Part):
    """How the timing engine models the device (a modelling choice, not hardware): docs/engine.md.

    network: "message" times each stream of a message as one unit (cost per message), "packet"
    steps every packet hop by hop (the detailed reference); energy is the same under both."""

    network: Literal["packet", "message"] = "packet"


def _allowed_keys(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """Field names of the model at `loc` (for 'unknown field' messages); [] if not a model."""
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return list(model.model_fields)
        ann = info.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)),
                     None)
    return []


def config_error(err: ValidationError, model: type[BaseModel] | None = None,
                 where: str = "") -> ConfigError:
    """One ConfigError for every problem pydantic found: `path=value: what is allowed`."""
    lines = []
    for e in err.errors(include_url=False):
        inner = e.get("ctx", {}).get("error")
        if isinstance(inner, ConfigError):      # raised by a cross-field check with its own path
            lines.append(str(inner))
            continue
        path = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
        if e["type"] == "missing":
            lines.append(f"{path}: required field is missing")
        elif e["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, e["loc"])
            hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{path}: unknown field{hint}")
        else:
            value = repr(e["input"])
            value = value if len(value) <= 80 else value[:77] + "..."
            lim = limit_of_path(path)
            why = f" ({lim.why})" if lim and e["type"] in ("greater_than_equal",
                                                            "less_than_equal") else ""
            lines.append(f"{path}={value}: {msg}{why}")
    return ConfigError((f"{where}: " if where else "") + "; ".join(lines))
