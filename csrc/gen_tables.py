"""Write, or check, everything in csrc/ that is generated from a Python declaration.

    python csrc/gen_tables.py            # rewrite the generated regions and files
    python csrc/gen_tables.py --check    # exit 1 naming each stale file (tests/test_tables.py)

Two kinds of target:
- regions of hand-written files between `/* GENERATED BEGIN <name> ... */` and
  `/* GENERATED END <name> */` markers (the tables of chipemu.h, the intrinsics' message ids, ...);
- whole files: csrc/kernels/<kernel>/params.h from each registered kernel's ParamLayout.
The declarations live in chipemu.emulator.tables and kernels/<kernel>/params.py (docs/tables.md
says which table lives where). Needs the package importable (an editable install).
"""
from __future__ import annotations

import pathlib
import re
import sys

CSRC = pathlib.Path(__file__).resolve().parent
ROOT = CSRC.parent
BEGIN = "/* GENERATED BEGIN {name} (from {source}; csrc/gen_tables.py) */"
END = "/* GENERATED END {name} */"


def replace_region(text: str, name: str, source: str, body: str, path="") -> str:
    """text with the region `name` replaced by body (markers kept); KeyError if it has none."""
    pat = re.compile(r"/\* GENERATED BEGIN " + re.escape(name) + r" \(.*?\*/\n(.*?)"
                     + re.escape(END.format(name=name)), re.S)
    if not pat.search(text):
        raise KeyError(f"{path}: no GENERATED region {name!r}")
    block = BEGIN.format(name=name, source=source) + "\n" + body.rstrip("\n") + "\n" + \
        END.format(name=name)
    return pat.sub(lambda m: block, text, count=1)


def regions():
    """[(path relative to the repo, region name, declaration named in the marker, body text)]."""
    return []


def whole_files():
    """{path relative to the repo: full text} of generated files: one params.h per kernel
    folder holding all of its layouts (told apart by their C prefixes)."""
    from chipemu.kernels.params import c_header
    from chipemu.kernels.registry import kernels
    return {f"csrc/kernels/{k.name}/params.h": c_header(k.params)
            for k in kernels().values() if k.params}


def render() -> dict:
    """{path: new text} for every target file."""
    texts = {}
    for path, name, source, body in regions():
        old = texts.get(path) or (ROOT / path).read_text()
        texts[path] = replace_region(old, name, source, body, path)
    texts.update(whole_files())
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
