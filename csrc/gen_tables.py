"""Write, or check, everything in csrc/ that is generated from a Python declaration.

    python csrc/gen_tables.py            # rewrite the generated regions and files
    python csrc/gen_tables.py --check    # exit 1 naming each stale file (tests/test_tables.py)

Two kinds of target:
- regions of hand-written files between `/* GENERATED BEGIN <name> ... */` and
  `/* GENERATED END <name> */` markers (the tables of chipemu.h, the intrinsics' message ids, ...);
- whole files: csrc/kernels/<kernel>/params.h from each registered kernel's ParamLayout, and
  csrc/include/chipemu_kernel.h from the chipemu_in_* prototypes of chipemu.h.
The declarations live in chipemu.emulator.tables and kernels/<kernel>/params.py; the kernel
prototypes of chipemu.h come from the definitions in csrc/kernels/<kernel>/tile.c (docs/tables.md
says which table lives where). Needs the package importable (an editable install); after a run,
`pip install -e .` rebuilds the extension.
"""
from __future__ import annotations

import pathlib
import re
import sys
import textwrap

CSRC = pathlib.Path(__file__).resolve().parent
ROOT = CSRC.parent
BEGIN = "/* GENERATED BEGIN {name} (from {source}; csrc/gen_tables.py) */"
END = "/* GENERATED END {name} */"


def replace_region(text: str, name: str, source: str, body: str, path="") -> str:
    """text with the region `name` replaced by body (markers kept); KeyError if it has none."""
    if "*/" in source or "*/" in name:
        raise ValueError(f"{path}: region {name!r}: '*/' would end the marker comment: {source!r}")
    pat = re.compile(r"/\* GENERATED BEGIN " + re.escape(name) + r" \(.*?\*/\n(.*?)"
                     + re.escape(END.format(name=name)), re.S)
    if not pat.search(text):
        raise KeyError(f"{path}: no GENERATED region {name!r}")
    block = BEGIN.format(name=name, source=source) + "\n" + body.rstrip("\n") + "\n" + \
        END.format(name=name)
    return pat.sub(lambda m: block, text, count=1)


# ---- rendering helpers ---------------------------------------------------------------------------

def _define(name, value, doc="", hex_=False, pad=36):
    text = f"#define {name} {value:#X}".replace("0X", "0x") if hex_ else f"#define {name} {value}"
    return f"{text:<{pad - 1}} /* {doc} */" if doc else text


def _ids(t):
    """The #defines of one tables.ids table, under its heading; comments aligned in the block."""
    rows = [(t.prefix + i.name.upper(), i.value, i.doc) for i in t.ids]
    if t.count_value is not None:
        rows.append((t.prefix + "COUNT", t.count_value, t.count_doc))
    base = 36 if t.prefix.startswith("CHIPEMU_") else 28         # the columns of chipemu.h, core.h
    pad = max([base] + [len(f"#define {n} {v}") + 1 for n, v, d in rows if d])
    return "\n".join([f"/* {t.title} */"] + [_define(n, v, d, pad=pad) for n, v, d in rows])


def _comment(text, width=100):
    """A C comment of `text`, wrapped to `width` columns."""
    lines = textwrap.wrap(text, width - 6)
    return "\n".join(["/* " + lines[0]] + [" * " + x for x in lines[1:]]) + " */"


def _blocks(*parts):
    return "\n\n".join(parts)


def _wrap(head, args, tail, width=100):
    """`head(arg, arg, ...)tail` broken before an argument that would pass `width` columns, the
    continuation lines aligned after the parenthesis."""
    pad = " " * len(head.splitlines()[-1])
    lines, cur = [], head
    for k, a in enumerate(args):
        piece = a + (", " if k < len(args) - 1 else tail)
        if len(cur) + len(piece.rstrip()) > width and cur.strip() != head.strip():
            lines.append(cur.rstrip())
            cur = pad
        cur += piece
    return "\n".join(lines + [cur])


# ---- csrc/include/chipemu.h ----------------------------------------------------------------------

def _versions_status():
    from chipemu.emulator.tables import ids
    return _blocks(_ids(ids.VERSIONS), _ids(ids.STATUS))


def _formats():
    from chipemu.emulator.tables import event, formats as F
    codes = [_define(f"CHIPEMU_FMT_{f.name.upper()}", f.code) for f in F.FORMATS]
    codes.append(_define("CHIPEMU_NUM_FORMATS", len(F.FORMATS)))
    kinds = [_define(f"CHIPEMU_KIND_{k.name.upper()}", i, k.doc) for i, k in enumerate(F.KINDS)]
    info = event.Struct("chipemu_format_info", tuple(
        event.Field(c.name, "int32_t", c.metadata["c"]) for c in F.COLUMNS))
    return _blocks("/* format codes */\n" + "\n".join(codes),
                   "/* format kinds: how codes are computed */\n" + "\n".join(kinds),
                   _define("CHIPEMU_DIMC_MIN_ELEM_BITS", F.DIMC_MIN_ELEM_BITS,
                           "the narrowest DIMC weight element") + "\n" +
                   _define("CHIPEMU_DIMC_FORMAT_MASK",
                           sum(1 << f.code for f in F.FORMATS if f.dimc),
                           "bit `code` set: the DIMC arrays compute in that format", hex_=True),
                   info.c_text())


def _limit_value(v):
    """(suffix, C integer literal): an int as is (LL beyond int32); a float bound (cffi's cdef
    takes integer #defines only) as v x 10^6 with suffix _E6, the C side dividing by 1e6 (a
    correctly rounded quotient: the same double as Python's v)."""
    if isinstance(v, float):
        e6 = round(v * 10**6)
        if e6 / 10**6 != v:
            raise ValueError(f"limit {v!r} is not a whole number of millionths")
        v, suffix = e6, "_E6"
    else:
        suffix = ""
    return suffix, f"{v}LL" if v > 2**31 - 1 else str(v)


def _limits():
    from chipemu.emulator.tables.limits import LIMITS, TOO_LARGE
    out = ["/* device limits: every layer accepts [MIN, MAX] and rejects the rest (docs/tables.md) */"]
    for lim in LIMITS:
        what = f"{lim.name} = {lim.of}" if lim.of else lim.name
        out.append(_comment(f"{what}: {lim.why}"))
        for end, v in (("MIN", lim.lowest), ("MAX", lim.highest)):
            suffix, text = _limit_value(v)
            out.append(_define(f"CHIPEMU_LIMIT_{lim.name.upper()}_{end}{suffix}", text))
    out.append("/* chipemu_engine_error.field of a log error CHIPEMU_EE_TOO_LARGE: what is too large */")
    out += [_define(f"CHIPEMU_TOO_LARGE_{name.upper()}", k) for k, name in enumerate(TOO_LARGE)]
    return "\n".join(out)


def _event():
    from chipemu.emulator.tables import event, ids
    no_buf = _define("CHIPEMU_NO_BUF", event.NO_BUF, "chipemu_range.buf of an unused range", True)
    return _blocks(no_buf, _ids(ids.OPS), _ids(ids.VOPS), _ids(ids.FLAGS), _ids(ids.UNITS),
                   _ids(ids.BUF_KINDS), *(s.c_text() for s in event.STRUCTS))


def _engine_ids():
    from chipemu.emulator.tables import ids
    return _blocks(_ids(ids.ENERGY), _ids(ids.RESOURCES), _ids(ids.NETWORKS), _ids(ids.MULTICAST),
                   _ids(ids.ENGINE_ERRORS), _ids(ids.PATHS))


def _runtime_ids():
    from chipemu.emulator.tables import ids
    return _blocks(*(_ids(t) for t in (ids.MODES, ids.DEV, ids.SC, ids.KERR, ids.IN, ids.BT)))


_KERNEL_DEF = re.compile(r"^(?:CHIPEMU_API\s+)?void\s+(chipemu_kernel_\w+)\s*\("
                         r"\s*(chipemu_ctx\s*\*\s*ctx\s*,[^)]*)\)", re.M)


def _kernel_prototypes():
    """CHIPEMU_API prototypes of every `void chipemu_kernel_*(chipemu_ctx *ctx, ...)` definition
    in csrc/kernels/*/tile.c, grouped by kernel folder (so a new kernel needs no header edit)."""
    out = []
    for path in sorted((CSRC / "kernels").glob("*/tile.c")):
        found = _KERNEL_DEF.findall(path.read_text())
        if not found:
            continue
        rel = path.relative_to(ROOT).as_posix()
        out.append(f"/* {path.parent.name} tile kernels ({rel}) */")
        for name, params in found:
            args = [" ".join(a.split()) for a in params.split(",")]
            out.append(_wrap(f"CHIPEMU_API void {name}(", args, ");"))
    return "\n".join(out)


# ---- csrc/intrinsics/core.h and csrc/numerics/codec.c --------------------------------------------

def _messages():
    from chipemu.emulator.tables import ids
    return _ids(ids.MSG)


def _arguments():
    from chipemu.emulator.tables import ids
    return _ids(ids.ARG)


def _format_table():
    from chipemu.emulator.tables import formats as F
    hexed = {"max_mag"}
    rows = []
    for f in F.FORMATS:
        cells = [f"CHIPEMU_FMT_{f.name.upper()}", f"CHIPEMU_KIND_{F.KINDS[f.kind].name.upper()}"]
        for c in F.COLUMNS[2:]:
            v = getattr(f, c.name)
            as_hex = c.name in hexed and f.kind not in (F.KIND_INT_TENSOR, F.KIND_BLOCK_INT)
            cells.append(f"{v:#X}".replace("0X", "0x") if as_hex else str(v))
        rows.append("    {" + ", ".join(cells) + "},")
    head = "/* {" + ", ".join(c.name for c in F.COLUMNS) + "} */"
    return "\n".join([head, "static const chipemu_format_info FORMAT_TABLE[CHIPEMU_NUM_FORMATS] = {",
                      *rows, "};"])


def _format_names():
    """The body of chipemu_format_name: each format code's name (Python's, e.g. "mxint8")."""
    from chipemu.emulator.tables import formats as F
    lines = ["    switch (fmt) {"]
    lines += [f'    case CHIPEMU_FMT_{f.name.upper()}: return "{f.name}";' for f in F.FORMATS]
    return "\n".join(lines + ["    default: return NULL;", "    }"])


_T = "chipemu.emulator.tables"
_H, _CORE, _CODEC = "csrc/include/chipemu.h", "csrc/intrinsics/core.h", "csrc/numerics/codec.c"
_ENGINE = "csrc/engine/engine.c"


def regions():
    """[(path relative to the repo, region name, declaration named in the marker, body text)]."""
    return [
        (_H, "versions_status", f"{_T}.ids", _versions_status()),
        (_H, "formats", f"{_T}.formats", _formats()),
        (_H, "event", f"{_T}.event, {_T}.ids", _event()),
        (_H, "engine_ids", f"{_T}.ids", _engine_ids()),
        (_H, "limits", f"{_T}.limits", _limits()),
        (_H, "runtime_ids", f"{_T}.ids", _runtime_ids()),
        (_H, "kernels", "csrc/kernels/<kernel>/tile.c", _kernel_prototypes()),
        (_CORE, "messages", f"{_T}.ids.MSG", _messages()),
        (_CORE, "arguments", f"{_T}.ids.ARG", _arguments()),
        (_CODEC, "format_table", f"{_T}.formats", _format_table()),
        (_CODEC, "format_names", f"{_T}.formats", _format_names()),
        (_CODEC, "status_strings", f"{_T}.ids.STATUS",
         _strings("STATUS", "status", "unknown status code")),
        (_ENGINE, "engine_error_strings", f"{_T}.ids.ENGINE_ERRORS",
         _strings("ENGINE_ERRORS", "code", "unknown engine error code")),
    ]


def _strings(table, var, default):
    """The body of a `const char *f(int32_t var)`: a switch giving each id's text."""
    from chipemu.emulator.tables import ids
    t = getattr(ids, table)
    lines = [f"    switch ({var}) {{"]
    lines += [f'    case {t.prefix}{i.name.upper()}: return "{i.text}";' for i in t.ids]
    return "\n".join(lines + [f'    default: return "{default}";', "    }"])


_KERNEL_H_HEAD = """/* chipemu_kernel.h — for C tile kernels: the intrinsics under the names the Numba twin uses.
 *
 * Include it in a kernel source (after chipemu.h's types are available) to write
 * `dimc_mvm(ctx, ...)`, `vec_exp(ctx, ...)`, `send(ctx, ...)` exactly as in Numba; each is a static
 * inline call of the exported chipemu_in_<name>. Short names such as `send` would clash with
 * <sys/socket.h>: include this header only in kernel files.
 * GENERATED by csrc/gen_tables.py from the chipemu_in_* prototypes of chipemu.h: do not edit.
 */
#ifndef CHIPEMU_KERNEL_H
#define CHIPEMU_KERNEL_H

#include "chipemu.h"

/* A kernel author's C twin in a library of their own (docs/intrinsics.md):
 *
 *     CHIPEMU_TILE_KERNEL(my_kernel) { ... host_read(ctx, p[0], ...); ... }
 *
 * defines `void my_kernel(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p)`,
 * exported, and beside it `my_kernel_chipemu_runtime`, the CHIPEMU_RUNTIME_VERSION it was
 * compiled against (chipemu_ctx, the supersteps and the intrinsics): TileKernel(c=(library,
 * "my_kernel")) checks both before it runs a tile. Build it with `chipemu cc`. */
#define CHIPEMU_TILE_KERNEL(fn)                                                              \
    CHIPEMU_API const int64_t fn##_chipemu_runtime = CHIPEMU_RUNTIME_VERSION;               \
    CHIPEMU_API void fn(chipemu_ctx *ctx, int64_t tile, int64_t step, const int64_t *p)
"""
_INTRINSIC = re.compile(r"CHIPEMU_API\s+int32_t\s+chipemu_in_(\w+)\s*\((.*?)\);", re.S)


def _kernel_header(header_text):
    """csrc/include/chipemu_kernel.h: a static inline short name for every chipemu_in_* prototype."""
    out = [_KERNEL_H_HEAD]
    for name, params in _INTRINSIC.findall(header_text):
        args = [" ".join(a.split()) for a in params.split(",")]
        names = [re.findall(r"\w+", a)[-1] for a in args]
        sig = _wrap(f"static inline int32_t {name}(", args, ") {")
        call = _wrap(f"    return chipemu_in_{name}(", names, ");")
        out.append(f"{sig}\n{call}\n}}\n")
    out.append("#endif /* CHIPEMU_KERNEL_H */\n")
    return "\n".join(out)


def _struct_fields(header_text, name):
    """Member names of `typedef struct { ... } name;` in chipemu.h, in order (comments dropped,
    `a, b;` lists split)."""
    end = header_text.index(f"}} {name};")
    body = header_text[header_text.rindex("typedef struct {", 0, end) + 16:end]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out = []
    for decl in body.split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        for part in decl.split(","):
            out.append(re.findall(r"(\w+)\s*(?:\[[^\]]*\])?\s*$", part)[0])
    return out


def _c_value(v):
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return f"{v}LL" if abs(v) > 2**31 - 1 else str(v)
    return "{" + ", ".join(_c_value(x) for x in v) + "}"


def _presets_c(header_text):
    """csrc/runtime/presets.c: every shipped preset's engine parameters (Device.preset(name)
    .engine_params(), the one preset source) for chipemu_device_open, and the member names
    of chipemu_device_params and chipemu_link by offset for chipemu_last_error's texts."""
    from chipemu.emulator.device import Device
    fields = _struct_fields(header_text, "chipemu_device_params")
    link_fields = _struct_fields(header_text, "chipemu_link")
    out = ["/* presets.c — the shipped device presets as engine parameters (chipemu_device_open),",
           " * and the parameter structs' member names (chipemu_last_error's texts).",
           " * GENERATED by csrc/gen_tables.py from the preset files in emulator/device/presets (Device.preset(",
           " * name).engine_params()) and chipemu.h: do not edit. */",
           "#include <stddef.h>", '#include "chipemu.h"', '#include "runtime/presets.h"', ""]
    entries = []
    for name in Device.presets():
        p = Device.preset(name).engine_params()
        ident = re.sub(r"\W", "_", name)
        if p["links"]:
            rows = [", ".join(f".{k} = {_c_value(v)}" for k, v in link.items())
                    for link in p["links"]]
            out.append(f"static const chipemu_link links_{ident}[] = {{")
            out += [f"    {{{r}}}," for r in rows] + ["};"]
        if p["dram_channel_tile"]:
            out.append(f"static const uint32_t dram_tiles_{ident}[] = "
                       f"{_c_value(p['dram_channel_tile'])};")
        out.append(f"static const chipemu_device_params params_{ident} = {{")
        for f in fields:
            if f == "links":
                v = f"links_{ident}" if p["links"] else "NULL"
            elif f == "dram_channel_tile":
                v = f"dram_tiles_{ident}" if p["dram_channel_tile"] else "NULL"
            elif f == "n_links":
                v = str(len(p["links"]))
            else:
                v = _c_value(p[f])
            out.append(f"    .{f} = {v},")
        out += ["};", ""]
        entries.append(f'    {{"{name}", &params_{ident}}},')
    out += ["const chipemu_preset chipemu_presets[] = {", *entries, "};",
            f"const int64_t chipemu_preset_total = {len(entries)};", ""]
    for struct, names, table in (("chipemu_device_params", fields, "chipemu_params_fields"),
                                 ("chipemu_link", link_fields, "chipemu_link_fields")):
        out.append(f"const chipemu_field {table}[] = {{")
        out += [f'    {{"{n}", offsetof({struct}, {n})}},' for n in names]
        out += ["};", f"const int64_t {table}_total = {len(names)};", ""]
    return "\n".join(out)


def whole_files(texts=None):
    """{path relative to the repo: full text} of generated files (texts: regions rendered so far)."""
    from chipemu.kernels.params import c_header
    from chipemu.kernels.registry import kernels
    texts = texts or {}
    # one params.h per kernel folder holding all of its layouts (told apart by their C prefixes)
    out = {f"csrc/kernels/{k.name}/params.h": c_header(k.params)
           for k in kernels().values() if k.params}
    header = texts.get(_H) or (ROOT / _H).read_text()
    out["csrc/include/chipemu_kernel.h"] = _kernel_header(header)
    out["csrc/runtime/presets.c"] = _presets_c(header)
    return out


def render() -> dict:
    """{path: new text} for every target file."""
    texts = {}
    for path, name, source, body in regions():
        old = texts.get(path) or (ROOT / path).read_text()
        texts[path] = replace_region(old, name, source, body, path)
    texts.update(whole_files(texts))
    return texts


def stale() -> list:
    """Paths whose text differs from what render() gives."""
    out = []
    for path, text in render().items():
        p = ROOT / path
        if not p.exists() or p.read_text() != text:
            out.append(path)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--check"]:
        bad = stale()
        for path in bad:
            print(f"stale: {path} (run python csrc/gen_tables.py)")
        return 1 if bad else 0
    if argv:
        print(__doc__)
        return 2
    for path, text in render().items():
        p = ROOT / path
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
