"""Timing and energy of an event log: the C engine (csrc/engine/, docs/engine.md) behind one call.

    result = simulate(log, params)

`log` is an EventLog (events, peers, buffer table); `params` is the dict Device.engine_params()
returns: the fields of the C struct chipemu_device_params by name (ENGINE_PARAM_FIELDS), with
`links` a list of dicts of chipemu_link fields (LINK_FIELDS), `dram_channel_tile` a list of local
tile ids, `vec_cycles` / `fj_vec_op` lists in CHIPEMU_VOP order and `fj_mac` a list indexed by
format code. `version` and `n_links` may be given (they must then match) or left out; `network`
(CHIPEMU_NET_*: 0 packet, 1 message) defaults to 0, the packet model. Missing or unknown keys, wrong types and out-of-range values raise ConfigError; a malformed log raises
EngineError naming the event, its op and the problem.

The result is a pure function of (log, params): the same inputs always give identical outputs,
so a run whose inputs equal an earlier run's reuses its output (engine.reuse; simulate(...,
reuse=False) or reuse.set_enabled(False) to time afresh).
"""
import threading
from dataclasses import dataclass

import numpy as np

from chipemu.emulator.errors import CapacityError, ConfigError, EngineError, ShapeError
from chipemu.emulator.engine import reuse as _reuse
from chipemu.emulator.engine.messages import log_error_text, param_error_text
from chipemu.emulator.events import BUFFER_DTYPE, EVENT_DTYPE, OP_NAMES, EventLog
from chipemu.emulator.native import check, ffi, lib, ptr
from chipemu.emulator.tables import ids as _ids
from chipemu.emulator.tables.limits import LIMIT, LIMITS

__all__ = ["simulate", "params_struct_of", "EngineResult", "CriticalPath", "resource_table", "ENGINE_PARAM_FIELDS",
           "LINK_FIELDS", "RESOURCE_CLASSES", "PATH_CLASSES", "ENERGY_COMPONENTS", "RESOURCE_DTYPE"]

RESOURCE_CLASSES = _ids.RESOURCES.names()                    # CHIPEMU_RES_* order
PATH_CLASSES = RESOURCE_CLASSES + _ids.PATHS.names()          # CHIPEMU_CP_*: + "barrier"
ENERGY_COMPONENTS = _ids.ENERGY.names()                       # CHIPEMU_E_* order
LINK_FIELDS = ("a", "b", "phy_a", "phy_b", "bytes_per_cycle", "latency_cycles", "fj_per_bit")
RESOURCE_DTYPE = np.dtype([("class", "U10"), ("chiplet", "<i4"), ("tile", "<i4"), ("index", "<i4"),
                           ("busy_cycles", "<i8"), ("utilization", "<f8")])

_FIELDS = dict(ffi.typeof("chipemu_device_params").fields)
_LINK_CFIELDS = dict(ffi.typeof("chipemu_link").fields)
ENGINE_PARAM_FIELDS = tuple(_FIELDS)
# network, noc_multicast: default 0 (CHIPEMU_NET_PACKET, CHIPEMU_MCAST_UNICAST)
_OPTIONAL = ("version", "n_links", "network", "noc_multicast")
_LISTS = {"vec_cycles": lib.CHIPEMU_VOP_COUNT, "fj_vec_op": lib.CHIPEMU_VOP_COUNT,
          "fj_mac": lib.CHIPEMU_NUM_FORMATS}
_U32 = 1 << 32
_I64 = 1 << 63
# allowed ranges checked here for clear messages; the C side checks the same (docs/engine.md):
# the device limits (tables.limits, CHIPEMU_LIMIT_* in C: sizes, energies per action, static power,
# the clock) and these rates and sizes >= 1
_LIMITED = {lim.name: lim for lim in LIMITS if lim.name in _FIELDS}
_AT_LEAST_1 = {"tile_rows", "tile_cols", "noc_link_bytes_per_cycle", "noc_max_packet_bytes",
               "dma_inject_bytes_per_cycle", "dma_eject_bytes_per_cycle",
               "dimc_input_bits_per_cycle", "dimc_io_bytes_per_cycle", "sram_port_bytes_per_cycle",
               "vec_lanes", "host_bytes_per_cycle"}
_AT_MOST = {"dimc_write_overlaps_compute": 1}
# fields that name a choice: {field: ({name: value}, C prefix)}
_CHOICES = {"network": (_ids.NETWORKS.mapping(), "CHIPEMU_NET_"),
            "noc_multicast": (_ids.MULTICAST.mapping(), "CHIPEMU_MCAST_")}


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _int_field(name, v, lo, hi, hi_name=""):
    if not _is_int(v):
        raise ConfigError(f"engine params: {name} = {v!r} must be an integer")
    if not lo <= int(v) < hi:
        bound = f"{hi_name} = {hi}" if hi_name else f"{hi}"
        raise ConfigError(f"engine params: {name} = {v!r} is out of range; allowed: {lo} <= {name} < {bound}")
    return int(v)


def _limit(name, v, what=None):
    """A field of the limits table: an integer in [lowest, highest]."""
    lim, what = LIMIT[name], what or name
    if not _is_int(v):
        raise ConfigError(f"engine params: {what} = {v!r} must be an integer")
    if not lim.ok(int(v)):
        raise ConfigError(f"engine params: {what} = {v!r} is out of range; allowed: {lim.allowed()}")
    return int(v)


def _scalar_range(name, ctype):
    lo = 1 if name in _AT_LEAST_1 else 0
    hi = _U32 if ctype.cname == "uint32_t" else _I64
    return lo, min(hi, _AT_MOST.get(name, hi - 1) + 1)


_STRUCTS: dict = {}            # id(device) -> (device, chipemu_device_params *, kept objects)


def params_struct_of(device):
    """The chipemu_device_params struct of a Device (engine_params()), built once per Device
    object and kept for the last few: the C planners take it on every call."""
    hit = _STRUCTS.get(id(device))
    if hit is None or hit[0] is not device:
        if len(_STRUCTS) >= 16:
            _STRUCTS.pop(next(iter(_STRUCTS)))
        hit = _STRUCTS[id(device)] = (device, *_params_struct(device.engine_params()))
    return hit[1]


def _check_keys(params):
    if not isinstance(params, dict):
        raise ConfigError(f"engine params must be a dict of chipemu_device_params fields, got {type(params).__name__}")
    required = set(_FIELDS) - set(_OPTIONAL)
    missing = sorted(required - set(params))
    extra = sorted(set(params) - set(_FIELDS))
    if missing or extra:
        raise ConfigError(f"engine params: missing keys {missing}, unknown keys {extra}; "
                          f"allowed: the fields of chipemu_device_params (docs/engine.md)")


def _params_struct(params):
    """(chipemu_device_params *, objects to keep alive during the call) from the dict."""
    _check_keys(params)
    p = ffi.new("chipemu_device_params *")
    keep = [p]
    version = params.get("version", lib.CHIPEMU_ENGINE_PARAMS_VERSION)
    if version != lib.CHIPEMU_ENGINE_PARAMS_VERSION:
        raise ConfigError(f"engine params: version = {version!r}; allowed: {lib.CHIPEMU_ENGINE_PARAMS_VERSION}")
    p.version = lib.CHIPEMU_ENGINE_PARAMS_VERSION
    for name, f in _FIELDS.items():
        if name in ("version", "n_links", "links", "dram_channel_tile") or name in _LISTS:
            continue
        v = params.get(name, 0) if name in _CHOICES else params[name]
        if name in _CHOICES and (not _is_int(v) or v not in _CHOICES[name][0].values()):
            table, prefix = _CHOICES[name]
            allowed = ", ".join(f"{i} ({n})" for n, i in table.items())
            raise ConfigError(f"engine params: {name} = {v!r}; allowed: {allowed} ({prefix}*)")
        if name == "clock_ghz":
            if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool) \
                    or not np.isfinite(v) or not LIMIT[name].ok(v):
                raise ConfigError(f"engine params: clock_ghz = {v!r}; allowed: "
                                  f"{LIMIT[name].allowed()}")
            p.clock_ghz = float(v)
            continue
        if name in _LIMITED:
            setattr(p, name, _limit(name, v))
        else:
            setattr(p, name, _int_field(name, v, *_scalar_range(name, f.type)))
    for name, n in _LISTS.items():
        v = params[name]
        if not isinstance(v, (list, tuple, np.ndarray)) or len(v) != n:
            raise ConfigError(f"engine params: {name} = {v!r}; allowed: a list of {n} integers")
        for k, x in enumerate(v):            # each entry within the table's row of the list
            getattr(p, name)[k] = _limit(name, x, f"{name}[{k}]")
    tiles = p.tile_rows * p.tile_cols
    for what, n in (("tile_rows x tile_cols", tiles), ("n_chiplets x tile_rows x tile_cols",
                                                       tiles * p.n_chiplets)):
        if not LIMIT["n_tiles"].ok(n):
            raise ConfigError(f"engine params: {what} = {n} is out of range; allowed: "
                              f"{LIMIT['n_tiles'].allowed()}")
    static = p.static_uw_tile * tiles * p.n_chiplets + p.static_uw_chiplet * p.n_chiplets + \
        p.static_uw_card
    if not LIMIT["static_uw"].ok(static):
        raise ConfigError(f"engine params: static power {LIMIT['static_uw'].of} = {static}; "
                          f"allowed: {LIMIT['static_uw'].allowed()}")
    for name, lim in (("host_chiplet", p.n_chiplets), ("host_tile", tiles)):
        if getattr(p, name) >= lim:
            raise ConfigError(f"engine params: {name} = {getattr(p, name)}; allowed: < {lim}")
    dct = params["dram_channel_tile"]
    if not isinstance(dct, (list, tuple, np.ndarray)) or len(dct) != p.dram_channels:
        raise ConfigError(f"engine params: dram_channel_tile = {dct!r}; allowed: a list of "
                          f"dram_channels = {p.dram_channels} local tile ids")
    tiles_arr = ffi.new("uint32_t[]", max(1, len(dct)))
    for k, x in enumerate(dct):
        tiles_arr[k] = _int_field(f"dram_channel_tile[{k}]", x, 0, tiles)
    if p.dram_channels and p.dram_bytes_per_cycle < 1:
        raise ConfigError("engine params: dram_bytes_per_cycle = 0; allowed: >= 1 when there are DRAM channels")
    p.dram_channel_tile = tiles_arr
    keep.append(tiles_arr)
    links = params["links"]
    if not isinstance(links, (list, tuple)):
        raise ConfigError(f"engine params: links = {links!r}; allowed: a list of dicts with keys {LINK_FIELDS}")
    if "n_links" in params and params["n_links"] != len(links):
        raise ConfigError(f"engine params: n_links = {params['n_links']!r} but links has {len(links)} entries")
    _limit("n_links", len(links))
    larr = ffi.new("chipemu_link[]", max(1, len(links)))
    for i, link in enumerate(links):
        if not isinstance(link, dict) or set(link) != set(LINK_FIELDS):
            raise ConfigError(f"engine params: links[{i}] = {link!r}; allowed: a dict with exactly the "
                              f"keys {LINK_FIELDS}")
        for name in LINK_FIELDS:
            if name == "fj_per_bit":
                larr[i].fj_per_bit = _limit("fj_link_bit", link[name], f"links[{i}].{name}")
                continue
            lo = 1 if name == "bytes_per_cycle" else 0
            hi, hi_name = {"a": (p.n_chiplets, "n_chiplets"), "b": (p.n_chiplets, "n_chiplets"),
                           "phy_a": (tiles, "tiles per chiplet"),
                           "phy_b": (tiles, "tiles per chiplet")}.get(name, (_U32, ""))
            setattr(larr[i], name, _int_field(f"links[{i}].{name}", link[name], lo, hi, hi_name))
        if larr[i].a == larr[i].b:
            raise ConfigError(f"engine params: links[{i}] joins chiplet {larr[i].a} to itself; "
                              f"allowed: two different chiplets")
    p.n_links = len(links)
    p.links = larr
    keep.append(larr)
    err = ffi.new("chipemu_engine_error *")
    if lib.chipemu_engine_check_params(p, err) != lib.CHIPEMU_OK:
        raise ConfigError(f"engine params: {param_error_text(err)}")
    return p, keep


@dataclass
class CriticalPath:
    """The chain of ops that bound the makespan, walked back from the op that ends last.

    events: event indices, first to last (the last `len(events)` of `length` ops if truncated).
    cycles_by_class: cycles along the path per class (PATH_CLASSES); they sum to the makespan.
    binding_class: the class with the most cycles (None for an empty log).
    """
    events: np.ndarray
    cycles_by_class: dict
    binding_class: str | None
    length: int


@dataclass
class EngineResult:
    """Timing and energy of one event log on one device (units in the names; energy in integer fJ).

    energy_fj_event: int64 dynamic energy of each event (everything but static power); its sum plus
    energy_by_component["static"] equals energy_fj exactly.
    """
    start_cycles: np.ndarray
    end_cycles: np.ndarray
    makespan_cycles: int
    seconds: float
    resources: np.ndarray
    critical_path: CriticalPath
    energy_fj: int
    energy_by_component: dict
    energy_by_chiplet: dict
    energy_by_tile: dict
    energy_by_op: dict
    energy_fj_event: np.ndarray = None

    @property
    def energy_breakdown(self) -> dict:
        """{"component", "chiplet", "tile", "op"} -> breakdown dict; each sums exactly to energy_fj."""
        return {"component": self.energy_by_component, "chiplet": self.energy_by_chiplet,
                "tile": self.energy_by_tile, "op": self.energy_by_op}

    def utilization_by_class(self) -> dict:
        """Mean utilization over the resources of each class that the device has."""
        out = {}
        for name in RESOURCE_CLASSES:
            sel = self.resources["class"] == name
            if sel.any():
                out[name] = float(self.resources["utilization"][sel].mean())
        return out


def resource_table(params: dict) -> np.ndarray:
    """The device's resources in engine order: RESOURCE_DTYPE with zero busy cycles."""
    p, keep = _params_struct(params)
    return _resource_table(p)


def _resource_table(p) -> np.ndarray:
    n = lib.chipemu_engine_resource_count(p)
    cols = [np.empty(n, np.int32) for _ in range(4)]
    check(lib.chipemu_engine_resources(p, n, *(ptr(c, "int32_t *") for c in cols)), "engine_resources")
    table = np.zeros(n, RESOURCE_DTYPE)
    table["class"] = np.asarray(RESOURCE_CLASSES)[cols[0]]
    table["chiplet"], table["tile"], table["index"] = cols[1], cols[2], cols[3]
    return table


def _as_array(arr, dtype, what):
    a = np.asarray(arr)
    if a.dtype != dtype:
        if dtype == np.uint32 and a.size == 0:
            return np.zeros(0, np.uint32)
        if dtype == np.uint32 and np.issubdtype(a.dtype, np.integer) and a.ndim == 1:
            if a.size and (a.min() < 0 or a.max() >= _U32):
                raise ShapeError(f"{what}: values must be uint32 tile ids, got range [{a.min()}, {a.max()}]")
            return np.ascontiguousarray(a, np.uint32)
        raise ShapeError(f"{what}: dtype {a.dtype}; allowed: {dtype}")
    if a.ndim != 1:
        raise ShapeError(f"{what}: shape {a.shape}; allowed: one dimension")
    return np.ascontiguousarray(a)


def _run(p, events, peers, buffers, out, progress):
    """chipemu_engine_run; with `progress`, on a helper thread (the call releases the GIL) while
    this one reports progress(events_done, n_events) every 0.1 s and once at the end."""
    args = (p, ptr(events, "chipemu_event *"), len(events), ptr(peers, "uint32_t *"), len(peers),
            ptr(buffers, "chipemu_buffer *"), len(buffers), out)
    if progress is None:
        return lib.chipemu_engine_run(*args)
    box = []
    worker = threading.Thread(target=lambda: box.append(lib.chipemu_engine_run(*args)),
                              name="chipemu-engine", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
            if worker.is_alive():
                progress(int(out.events_done), len(events))
    finally:                        # the engine writes into our arrays until it returns
        worker.join()
    if box and box[0] == lib.CHIPEMU_OK:
        progress(len(events), len(events))
    return box[0] if box else lib.CHIPEMU_ERR_NOMEM


def simulate(log: EventLog, params: dict, threads: int = 0, progress=None,
             reuse: bool = True) -> EngineResult:
    """Time and energy of `log` on the device `params` (see the module docstring).

    threads: how many threads the engine may use (0 = automatic, 1 = this thread only); the
    results are bit-identical for every value. progress: None (quiet), or a callable
    progress(events_timed, n_events) called about every 0.1 s while the engine runs.
    reuse: take the output of an earlier run with the same inputs (engine.reuse: the key is the
    digest of the params struct, events, peers, buffer table and thread count) when reuse is
    enabled for the process; False times the log afresh. A reused run reports progress done at
    once and returns a result equal to a recomputed one, with arrays of its own.
    """
    if not _is_int(threads) or threads < 0:
        raise ConfigError(f"threads = {threads!r}; allowed: an integer >= 0 (0 = automatic)")
    if progress is not None and not callable(progress):
        raise ConfigError(f"progress = {progress!r}; allowed: None or a callable "
                          f"progress(events_timed, n_events)")
    if not isinstance(reuse, (bool, np.bool_)):
        raise ConfigError(f"reuse = {reuse!r}; allowed: True or False")
    if not isinstance(log, EventLog):
        raise ShapeError(f"log: {type(log).__name__}; allowed: an EventLog")
    p, keep = _params_struct(params)
    events = _as_array(log.events, EVENT_DTYPE, "log.events")
    peers = _as_array(log.peers, np.uint32, "log.peers")
    buffers = _as_array(log.buffers, BUFFER_DTYPE, "log.buffers")
    # the most an entry holds: start, end, energy per event, the path; resources; energy per tile
    most = len(events) * 28 + lib.chipemu_engine_resource_count(p) * RESOURCE_DTYPE.itemsize + \
        (p.n_chiplets * (p.tile_rows * p.tile_cols + 1) + 2) * 8
    use = reuse and _reuse.worth_keeping(most)
    k = _reuse.key(p, events, peers, buffers, threads) if use else None
    raw = None if k is None else _reuse.lookup(k)
    shared = raw is not None
    if shared:
        if progress is not None:
            progress(len(events), len(events))
    else:
        raw = _engine(p, events, peers, buffers, threads, progress)
        shared = k is not None and _reuse.store(k, raw)
    result = _result(raw, p, copy=shared)
    del keep
    return result


def _engine(p, events, peers, buffers, threads, progress) -> _reuse.RawTiming:
    """chipemu_engine_run's outputs for one log, or the named error."""
    n = len(events)
    n_res = lib.chipemu_engine_resource_count(p)
    n_chiplets, n_tiles = p.n_chiplets, p.n_chiplets * p.tile_rows * p.tile_cols
    start = np.empty(n, np.int64)
    end = np.empty(n, np.int64)
    busy = np.empty(n_res, np.int64)
    by_chiplet = np.empty(n_chiplets + 1, np.int64)
    by_tile = np.empty(n_tiles + 1, np.int64)
    path = np.empty(n, np.int32)
    energy_event = np.empty(n, np.int64)
    out = ffi.new("chipemu_engine_result *")
    out.start_cycles = ptr(start, "int64_t *")
    out.end_cycles = ptr(end, "int64_t *")
    out.busy_cycles = ffi.cast("int64_t *", ffi.from_buffer(busy))
    out.energy_by_chiplet = ffi.cast("int64_t *", ffi.from_buffer(by_chiplet))
    out.energy_by_tile = ffi.cast("int64_t *", ffi.from_buffer(by_tile))
    out.critical_path = ptr(path, "int32_t *")
    out.critical_path_capacity = n
    out.energy_fj_event = ptr(energy_event, "int64_t *")
    out.threads = min(int(threads), 64)
    st = _run(p, events, peers, buffers, out, progress)
    if st == lib.CHIPEMU_ERR_LOG:           # a run beyond the engine's range: CapacityError
        cls = CapacityError if out.error.code == lib.CHIPEMU_EE_TOO_LARGE else EngineError
        raise cls(log_error_text(out.error, events, peers, buffers))
    if st == lib.CHIPEMU_ERR_PARAMS:
        raise ConfigError(f"engine params: {param_error_text(out.error)}")
    check(st, "engine_run")
    makespan = int(out.makespan_cycles)
    resources = _resource_table(p)
    resources["busy_cycles"] = busy
    resources["utilization"] = busy / makespan if makespan else 0.0
    return _reuse.RawTiming(
        start_cycles=start, end_cycles=end, resources=resources, energy_by_chiplet=by_chiplet,
        energy_by_tile=by_tile, critical_path=path[:min(int(out.critical_path_len), n)].copy(),
        energy_fj_event=energy_event, makespan_cycles=makespan,
        energy_fj=int(out.energy_fj),
        energy_by_component=tuple(out.energy_by_component)[:len(ENERGY_COMPONENTS)],
        energy_by_op=tuple(out.energy_by_op), critical_path_len=int(out.critical_path_len),
        critical_cycles=tuple(out.critical_cycles)[:len(PATH_CLASSES)],
        critical_class=int(out.critical_class))


def _result(raw: _reuse.RawTiming, p, copy: bool) -> EngineResult:
    """An EngineResult built from the engine's raw outputs; copy: its arrays are copies (the cache
    keeps `raw`), else `raw`'s own (a run not kept: no copies of a large log's arrays)."""
    makespan = raw.makespan_cycles
    own = (lambda a: a.copy()) if copy else (lambda a: a)
    cycles = dict(zip(PATH_CLASSES, raw.critical_cycles))
    cls = raw.critical_class
    crit = CriticalPath(events=own(raw.critical_path), cycles_by_class=cycles,
                        binding_class=PATH_CLASSES[cls] if cls >= 0 else None,
                        length=raw.critical_path_len)
    by_op = {"static": raw.energy_by_op[0]}
    by_op.update({OP_NAMES[k]: raw.energy_by_op[k] for k in sorted(OP_NAMES)})
    # tolist: Python ints in one C pass (a corsair card has 2,048 tiles)
    chiplets = dict(enumerate(raw.energy_by_chiplet[:-1].tolist()))
    chiplets["card"] = int(raw.energy_by_chiplet[-1])
    tiles = dict(enumerate(raw.energy_by_tile[:-1].tolist()))
    tiles["card"] = int(raw.energy_by_tile[-1])
    return EngineResult(
        start_cycles=own(raw.start_cycles), end_cycles=own(raw.end_cycles),
        makespan_cycles=makespan, seconds=makespan / (p.clock_ghz * 1e9),
        resources=own(raw.resources),
        critical_path=crit, energy_fj=raw.energy_fj,
        energy_by_component=dict(zip(ENERGY_COMPONENTS, raw.energy_by_component)),
        energy_by_chiplet=chiplets, energy_by_tile=tiles, energy_by_op=by_op,
        energy_fj_event=own(raw.energy_fj_event))
