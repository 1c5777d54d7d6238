"""A sweep's points: its cases times its grid, then its explicit points (docs/sweeps.md).

    spec = Spec.from_toml("examples/sweep_link_slots_fmt.toml")
    spec = Spec(cases=[{"kernel": "matmul", "m": 16, "k": 4096, "n": 4096}],
                grid={"chiplet.noc.link_bytes_per_cycle": [32, 64], "fmt": ["mxint8", "mxint4"]})
    spec.points()       # [Point, ...] in a fixed order: cases outer, the grid's axes in order

A key with a dot is a device field by path (`chiplet.noc.link_bytes_per_cycle`,
`tile.dimc.weight_slots`: Device.replace); `kernel`, `name`, `device`, `mode` and `backend` are
the point's own; any other key is a parameter of the kernel's `chipemu run` command (`m`, `fmt`,
`batch`, ...) or of a program (`kernel = "llm"`: an LLM response, sweeps/run.py llm_response). Kernel names, parameter names and device paths are checked when the spec is made;
values are checked when a point runs, and a bad one makes that point's row an error.
"""
from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from chipemu.emulator.device import Device, as_device
from chipemu.emulator.errors import ConfigError

__all__ = ["Spec", "Point", "OWN_KEYS", "device_hash"]

OWN_KEYS = ("kernel", "name", "device", "mode", "backend")
_MODES, _BACKENDS = ("timing", "functional"), ("c", "numba")
_NOT_PARAMS = ("device", "backend", "mode", "progress", "network")


def device_hash(device: Device) -> str:
    """16 hex digits of the SHA-256 of the device's parameters (Device.to_dict, keys sorted)."""
    text = json.dumps(device.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(value):
    """A TOML/JSON scalar or list as itself; anything else refused (rows must be data)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise ConfigError(f"sweep value {value!r} ({type(value).__name__}); allowed: numbers, "
                      f"strings, booleans and lists of them")


@dataclass(frozen=True)
class Point:
    """One run of a sweep: which kernel with which parameters on which device."""

    index: int
    name: str                       # its case's name ("" when none)
    kernel: str
    device: str                     # a preset name or a device .toml path
    mode: str
    backend: str
    params: tuple = ()              # ((name, value), ...), in the spec's order
    overrides: tuple = ()           # ((device path, value), ...)

    def build_device(self) -> Device:
        """The point's device: its base with the overrides applied (ConfigError if invalid)."""
        base = as_device(self.device)
        return base.replace(dict(self.overrides)) if self.overrides else base

    def key(self, version: str, dev_hash: str) -> str:
        """The cache key: version, device hash, kernel, parameters and mode (and backend)."""
        text = json.dumps([version, dev_hash, self.kernel, sorted(self.params), self.mode,
                           self.backend], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def inputs(self) -> dict:
        """The row's input columns: param.<name> and set.<path> beside the point's own."""
        row = {"point": self.index, "name": self.name, "kernel": self.kernel,
               "device": self.device, "mode": self.mode, "backend": self.backend}
        row.update({f"param.{k}": _cell(v) for k, v in self.params})
        row.update({f"set.{k}": _cell(v) for k, v in self.overrides})
        return row


def _cell(v):
    return json.dumps(v) if isinstance(v, list) else v


@dataclass
class Spec:
    """What to sweep (see the module docstring). cases: dicts, each a kernel and its values;
    grid: {key: [values]}, every combination applied to every case; points: dicts run as
    given, after the grid's. device, mode, backend: the defaults of every point."""

    cases: list = field(default_factory=list)
    grid: dict = field(default_factory=dict)
    explicit: list = field(default_factory=list)
    device: str = "corsair"
    mode: str = "timing"
    backend: str = "c"
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.cases, list) or not isinstance(self.explicit, list):
            raise ConfigError("sweep: cases and points must be lists of tables (dicts)")
        if not isinstance(self.grid, dict):
            raise ConfigError(f"sweep: grid={self.grid!r}; allowed: a table of key = [values]")
        if not self.cases and not self.explicit:
            raise ConfigError("sweep: no cases and no points; give at least one [[case]] "
                              "(a kernel and its parameters) or one [[point]]")
        for key, values in self.grid.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"sweep: grid axis {key!r} = {values!r}; allowed: a non-empty "
                                  f"list of values")
            if key in ("kernel", "name"):
                raise ConfigError(f"sweep: grid axis {key!r}: a kernel changes its parameters; "
                                  f"give one [[case]] per kernel")
        for i, case in enumerate(self.cases + self.explicit):
            if not isinstance(case, dict) or "kernel" not in case:
                raise ConfigError(f"sweep: case/point {i} = {case!r}; allowed: a table with "
                                  f"kernel = <name> and its values")
        self._check(self.points())

    @classmethod
    def from_toml(cls, path) -> "Spec":
        """A spec file (docs/sweeps.md): top-level device, mode, backend, name; [[case]] tables;
        a [grid] table; [[point]] tables."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"{path}: cannot read the sweep spec: {err.strerror or err}") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from None
        return cls.from_dict(_devices_beside(data, path.parent), where=str(path))

    @classmethod
    def from_dict(cls, data: dict, where: str = "sweep") -> "Spec":
        known = {"case", "grid", "point", "device", "mode", "backend", "name"}
        extra = sorted(set(data) - known)
        if extra:
            raise ConfigError(f"{where}: unknown keys {extra}; allowed: {sorted(known)}")
        return cls(cases=list(data.get("case", [])), grid=dict(data.get("grid", {})),
                   explicit=list(data.get("point", [])), device=data.get("device", "corsair"),
                   mode=data.get("mode", "timing"), backend=data.get("backend", "c"),
                   name=data.get("name", ""))

    def points(self) -> list:
        """Every point, in order: each case with each grid combination (the last axis varying
        fastest), then the explicit points."""
        axes = list(self.grid)
        combos = list(itertools.product(*(self.grid[a] for a in axes)))
        out = []
        for case in self.cases:
            for combo in combos:
                out.append(self._point(len(out), {**case, **dict(zip(axes, combo))}))
        for p in self.explicit:
            out.append(self._point(len(out), p))
        return out

    def _point(self, index: int, values: dict) -> Point:
        own = {k: values.get(k, getattr(self, k, "")) for k in ("device", "mode", "backend")}
        rest = [(k, _plain(v)) for k, v in values.items() if k not in OWN_KEYS]
        return Point(index=index, name=str(values.get("name", "")), kernel=str(values["kernel"]),
                     device=str(own["device"]), mode=str(own["mode"]),
                     backend=str(own["backend"]),
                     params=tuple((k, v) for k, v in rest if "." not in k),
                     overrides=tuple((k, v) for k, v in rest if "." in k))

    def _check(self, points: list) -> None:
        """Kernel names, parameter names, modes, backends and device paths, before any run."""
        from chipemu.sweeps.run import runners
        cmds = runners()
        bases = {}
        for p in points:
            if p.kernel not in cmds:
                raise ConfigError(f"sweep point {p.index}: kernel={p.kernel!r} is unknown; "
                                  f"allowed: {', '.join(sorted(cmds))}")
            allowed = [n for n in inspect.signature(cmds[p.kernel]).parameters
                       if n not in _NOT_PARAMS]
            bad = [k for k, _ in p.params if k not in allowed]
            if bad:
                raise ConfigError(f"sweep point {p.index}: {p.kernel} has no parameter "
                                  f"{', '.join(map(repr, bad))}; allowed: {', '.join(allowed)} "
                                  f"(a key with a dot is a device field)")
            if p.mode not in _MODES or p.backend not in _BACKENDS:
                raise ConfigError(f"sweep point {p.index}: mode={p.mode!r}, backend="
                                  f"{p.backend!r}; allowed: {_MODES}, {_BACKENDS}")
            if p.device not in bases:
                bases[p.device] = as_device(p.device).to_dict()
            for path, _ in p.overrides:
                _check_path(bases[p.device], path, p)


def _devices_beside(data: dict, folder: Path) -> dict:
    """The spec with relative device .toml paths that name a file beside the spec made
    relative to the spec's folder (a preset name, or a path from the working folder, stays)."""
    def fix(value):
        if isinstance(value, str) and value.endswith(".toml") and not Path(value).is_absolute() \
                and not Path(value).exists() and (folder / value).exists():
            return str(folder / value)
        return value
    out = dict(data)
    if "device" in out:
        out["device"] = fix(out["device"])
    for key in ("case", "point"):
        if isinstance(out.get(key), list):
            out[key] = [{**c, "device": fix(c["device"])} if isinstance(c, dict) and "device" in c
                        else c for c in out[key]]
    if isinstance(out.get("grid"), dict) and isinstance(out["grid"].get("device"), list):
        out["grid"] = {**out["grid"], "device": [fix(d) for d in out["grid"]["device"]]}
    return out


def _check_path(data: dict, path: str, p: Point) -> None:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            have = sorted(node) if isinstance(node, dict) else f"{len(node)} items" \
                if isinstance(node, list) else "a value"
            raise ConfigError(f"sweep point {p.index}: {path!r} is not a field of device "
                              f"{p.device!r} (at {part!r}; there: {have})")
