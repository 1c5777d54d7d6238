"""The code in README.md and docs/*.md runs: every ```python block of a file, in order, in one
namespace per file, in a scratch directory (so examples cannot rot)."""
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(path):
    return BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [p for p in FILES if _blocks(p)], ids=lambda p: p.name)
def test_python_blocks_run(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": f"doc_{path.stem}"}
    for i, code in enumerate(_blocks(path)):
        src = tmp_path / f"doc_{path.stem}_{i}.py"     # a real file: Numba caches jit functions by it
        src.write_text(code)
        try:
            exec(compile(code, str(src), "exec"), ns)
        except Exception as exc:
            raise AssertionError(f"{path.relative_to(ROOT)}, python block {i} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc


def test_every_doc_page_with_code_is_collected():
    assert {p.name for p in FILES if _blocks(p)} >= {"README.md", "scale_rows.md", "intrinsics.md",
                                                       "attention.md"}
    assert os.path.exists(ROOT / "docs" / "kernels.md")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_checked_table_rows_match_their_code(path):
    """A table row marked "(checked below)" states only figures that the page's python blocks
    assert, so the runs above keep it true (docs/attention.md: its decode step had 1.03 µJ where
    the run gives 1.026 mJ)."""
    code = "".join(_blocks(path))
    for row in (r for r in path.read_text(encoding="utf-8").splitlines()
                if r.startswith("|") and "(checked below)" in r):
        figures = re.findall(r"\d[\d,]*(?:\.\d+)?", row.split("|")[2])
        assert figures, row
        for fig in figures:
            assert re.search(rf"(?<![\d.]){re.escape(fig.replace(',', ''))}(?![\d.])", code), \
                f"{path.name}: {fig} in {row[:60]!r} is not asserted by its python blocks"
