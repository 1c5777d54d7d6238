"""Golden results as JSON of named figures, and a comparison that names every figure that changed.

`array_figures` summarises an integer array exactly: small ones are kept whole, big ones as n, sum,
min, max, argmax, index-weighted sum, sum of squares and values at a few sampled indices (any single
changed value, or two that trade places, moves the sums). `mismatches` walks the golden document and
lists `path = got (golden expected)` lines; `assert_golden` fails with all of them for one case.
`dumps` writes one figure a line, with short groups, list records and arrays of numbers inline.
"""
import json

import numpy as np

FULL = 32          # arrays up to this length are stored whole
SAMPLES = 8        # sampled indices of a bigger array (evenly spaced, first and last included)


def array_figures(a):
    a = [int(v) for v in np.asarray(a).ravel()]      # Python ints: the sums must not overflow
    f = {"n": len(a), "sum": sum(a), "min": min(a, default=0), "max": max(a, default=0)}
    if len(a) <= FULL:
        f["values"] = a
        return f
    f["argmax"] = a.index(f["max"])
    f["index_weighted_sum"] = sum(i * v for i, v in enumerate(a))
    f["sum_of_squares"] = sum(v * v for v in a)
    f["at"] = {str(i): a[i] for i in sorted({round(k * (len(a) - 1) / (SAMPLES - 1))
                                             for k in range(SAMPLES)})}
    return f


def _name(path, key):
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


def mismatches(got, expected, path=""):
    """`path = got (golden expected)` for every figure that differs, missing or is new."""
    if isinstance(expected, dict) and isinstance(got, dict):
        out = []
        for k, v in expected.items():
            if k in got:
                out += mismatches(got[k], v, _name(path, k))
            else:
                out.append(f"{_name(path, k)} missing (golden {v!r})")
        new = [k for k in got if k not in expected]
        return out + [f"{_name(path, k)} = {got[k]!r} (not in golden)" for k in new]
    if isinstance(expected, list) and isinstance(got, list):
        out = [] if len(got) == len(expected) else [
            f"{path} has {len(got)} entries (golden {len(expected)})"]
        for i, (g, e) in enumerate(zip(got, expected)):
            out += mismatches(g, e, _name(path, i))
        return out
    return [] if got == expected else [f"{path} = {got!r} (golden {expected!r})"]


def assert_golden(case, got, expected, limit=40):
    """Fail naming the case and each changed figure (the first `limit` of them)."""
    bad = mismatches(json.loads(json.dumps(got)), expected)
    if bad:
        more = [f"... and {len(bad) - limit} more"] if len(bad) > limit else []
        raise AssertionError("\n".join(f"case {case!r}: {m}" for m in bad[:limit] + more))


def dumps(doc, indent=0, inline=False):
    """JSON one figure a line; short dicts, the records of a list and arrays of scalars inline."""
    flat = json.dumps(doc)
    if not isinstance(doc, (dict, list)) or inline or len(flat) + indent <= 100 and not (
            isinstance(doc, dict) and any(isinstance(v, dict) for v in doc.values())):
        return flat
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(doc, dict):
        items = [f"{inner}{json.dumps(str(k))}: {dumps(v, indent + 1)}" for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if all(not isinstance(v, (dict, list)) for v in doc):
        return flat
    rows = (inner + dumps(v, indent + 1, inline=True) for v in doc)
    return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
