"""The source layout's rules (docs/DESIGN.md §1, docs/kernels.md): every twin file has its pair at
the mirrored path and names it; emulator never imports kernels or the CLI; no kernel imports
another kernel's modules (only the shared ones); no import cycles between modules."""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = {"emulator": "chipemu.emulator", "kernels": "chipemu.kernels", "llm": "chipemu.llm",
            "cli": "chipemu.cli"}
# Numba twin folder -> C twin folder; test-only kernels pair inside tests/testkernels
MIRRORS = {"emulator/numerics": "csrc/numerics", "emulator/intrinsics": "csrc/intrinsics",
           "emulator/runtime": "csrc/runtime", "kernels": "csrc/kernels",
           "tests/testkernels": "tests/testkernels"}
# C files without a Numba twin, and why
C_ONLY = {
    "csrc/intrinsics/dimc_mvm.c": "the portable and AVX2 inner loops of dimc.c (one twin with it)",
    "csrc/intrinsics/vec.h": "static helpers shared by vec.c and vec_rows.c (vec.py's helpers)",
    "csrc/runtime/events.c": "the event schema getters; the Python side is emulator/events.py",
    "csrc/runtime/device.c": "the C host's device handle; Python holds a Device (device/config.py)",
    "csrc/runtime/presets.c": "generated preset tables for device.c (Device.preset is the source)",
    "csrc/runtime/presets.h": "the declarations of presets.c's tables",
    "csrc/runtime/error.h": "chipemu_last_error()'s setter for the host API (Python raises)",
    "csrc/host/machine.c": "the C host's Machine (runtime/machine.py, state.py): runs from C",
    "csrc/host/machine.h": "its declarations",
    "csrc/kernels/matmul/plan.c": "the one matmul planner; kernels/matmul/plan.py calls it",
    "csrc/kernels/attention/plan.c": "the one attention planner; kernels/attention/plan.py calls it",
    "csrc/kernels/attention/mask.h": "no mask or causal for C hosts (data.py's rules, not stored)",
    "csrc/kernels/attention/run.c": "an attention call from C (api.py, steps.py, data.py)",
    "csrc/host/plan.h": "the C planners' integer helpers",
    "csrc/kernels/matmul/run.c": "a matmul run from C (api.py, data.py: a test compares costs)",
    "csrc/kernels/matmul/run.h": "its declarations",
}
# kernel folders every kernel may use
SHARED_KERNEL_MODULES = {"scaffold", "blocks", "params", "registry", "barrier", "region", "layer",
                         "move", "reduce"}
# layers above the kernels: they compose kernels, so they may import any of them
COMPOSERS = {"program"}


def _twin_py(c_path: str) -> str:
    for py_dir, c_dir in MIRRORS.items():
        if c_path.startswith(c_dir + "/"):
            return py_dir + c_path[len(c_dir):].rsplit(".", 1)[0] + ".py"
    raise AssertionError(f"{c_path} is in no mirrored folder")


def _c_files():
    out = []
    for c_dir in set(MIRRORS.values()):
        out += [p for p in (ROOT / c_dir).rglob("*") if p.suffix in (".c", ".h")]
    return sorted(str(p.relative_to(ROOT)) for p in out)


def test_every_c_file_has_its_numba_twin_at_the_mirrored_path():
    missing = []
    for c in _c_files():
        if c in C_ONLY or c.endswith("/params.h") or c.endswith("testkernels/tile.h"):
            continue
        py = _twin_py(c)
        if not (ROOT / py).exists():
            missing.append(f"{c} -> {py}")
    assert not missing, f"C files without a Numba twin at the mirrored path: {missing}"


def test_every_numba_twin_names_its_c_twin_which_exists_at_the_mirrored_path():
    checked = 0
    for py_dir, c_dir in MIRRORS.items():
        for py in sorted((ROOT / py_dir).rglob("*.py")):
            if py.name == "__init__.py":
                continue
            doc = ast.get_docstring(ast.parse(py.read_text())) or ""
            m = re.search(r"Numba twins? of (?:the [\w ]+ of )?(\S+?)[:,.]?\s", doc.split("\n\n")[0])
            if not m:
                continue
            rel = str(py.relative_to(ROOT))
            named = m.group(1).strip("`")
            assert _twin_py(named) == rel, f"{rel} names {named}, not its mirrored C twin"
            assert (ROOT / named).exists(), f"{rel} names {named}, which does not exist"
            c_text = (ROOT / named).read_text()
            assert py.name in c_text.split("*/")[0], f"{named}'s header comment does not name {rel}"
            checked += 1
    assert checked >= 12


def test_c_only_files_exist():
    assert all((ROOT / c).exists() for c in C_ONLY)


def _modules():
    """{dotted name: path} of every module of the three packages."""
    out = {}
    for folder, pkg in PACKAGES.items():
        for p in sorted((ROOT / folder).rglob("*.py")):
            parts = p.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((pkg, *parts))
            out[name[:-len(".__init__")] if name.endswith(".__init__") else name] = p
    return out


def _imports(path, top_level_only):
    """(module, names) of every `from M import names` / `import M` (absolute) in a file."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def test_emulator_imports_neither_kernels_nor_cli():
    bad = [f"{name} imports {mod}" for name, path in _modules().items()
           if name.startswith("chipemu.emulator")
           for mod, _ in _imports(path, top_level_only=False)
           if mod.startswith(("chipemu.kernels", "chipemu.cli"))]
    assert not bad, bad


def test_no_kernel_imports_another_kernels_modules():
    bad = []
    for name, path in _modules().items():
        parts = name.split(".")
        if len(parts) < 4 or parts[1] != "kernels":
            continue
        own = parts[2]
        if own in COMPOSERS:
            continue
        for mod, names in _imports(path, top_level_only=False):
            mparts = mod.split(".")
            if mod == "chipemu.kernels":                 # the public names only
                bad += [f"{name}: from chipemu.kernels import {n}" for n in names if n.startswith("_")]
                continue
            if mparts[:2] != ["chipemu", "kernels"] or len(mparts) < 3:
                continue
            other = mparts[2]
            if other != own and other not in SHARED_KERNEL_MODULES:
                bad.append(f"{name} imports {mod}")
    assert not bad, bad


@pytest.mark.parametrize("top_level_only", [True, False], ids=["module level", "also in functions"])
def test_no_import_cycles_between_modules(top_level_only):
    """Lazy imports inside functions count too: a cycle hidden in a function is still a cycle."""
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        deps = set()
        for mod, names in _imports(path, top_level_only=top_level_only):
            subs = [f"{mod}.{n}" for n in names if f"{mod}.{n}" in mods]
            for cand in subs or [mod]:          # `from pkg import submodule` needs the submodule
                if cand in mods and cand != name:
                    deps.add(cand)
        graph[name] = deps
    # a package's __init__ importing its own submodules is how packages export; the reverse is a cycle
    seen, stack, cycles = set(), [], []

    def visit(n):
        if n in stack:
            cyc = stack[stack.index(n):] + [n]
            if not all(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(cyc, cyc[1:])):
                cycles.append(" -> ".join(cyc))
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for d in sorted(graph[n]):
            visit(d)
        stack.pop()

    for n in sorted(graph):
        visit(n)
    assert not cycles, cycles
