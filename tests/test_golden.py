"""The refactored model writes the same outputs as the pre-issue-11 implementation (golden
files in tests/golden/, from commit 91125b2; see benchmarks/golden.py): with the lead-markup
pricing rule of that implementation, and for the columns it wrote (columns added since, such
as the pricing convergence, are not in the golden files).

Every line, every text field and every integer must match exactly; a decimal number may
differ from the golden one by at most one part in 10¹² (the last digit or two of its 17).
Why not byte for byte: numpy's summations use the SIMD instructions of the CPU they run on,
so the order in which a sum of shares or prices is added up — and with it the last bit of
the result — differs between the machines CI lands on (docs/decisions.md, "golden files")."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
RELATIVE_TOLERANCE = 1e-12

_spec = importlib.util.spec_from_file_location("golden", ROOT / "benchmarks" / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


def _is_decimal(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return not text.lstrip("-").isdigit()


def _same_value(expected, actual) -> bool:
    """Exact for text, integers and flags; decimals within RELATIVE_TOLERANCE."""
    if isinstance(expected, str) and isinstance(actual, str):
        if _is_decimal(expected) and _is_decimal(actual):
            expected, actual = float(expected), float(actual)
        else:
            return expected == actual
    if isinstance(expected, float) and isinstance(actual, (int, float)) \
            and not isinstance(actual, bool):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        return math.isclose(expected, actual, rel_tol=RELATIVE_TOLERANCE,
                            abs_tol=RELATIVE_TOLERANCE)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            _same_value(expected[key], actual[key]) for key in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _same_value(a, b) for a, b in zip(expected, actual))
    return type(expected) is type(actual) and expected == actual


def _first_difference(name: str, expected: bytes, actual: bytes) -> str | None:
    """Where two files differ beyond the tolerance (None when they agree)."""
    if name.endswith(".json"):
        want, got = json.loads(expected), json.loads(actual)
        return None if _same_value(want, got) else (
            f"golden: {json.dumps(want)[:300]}\n  now:    {json.dumps(got)[:300]}")
    want = list(csv.reader(io.StringIO(expected.decode("utf-8"))))
    got = list(csv.reader(io.StringIO(actual.decode("utf-8"))))
    for number, (a, b) in enumerate(zip(want, got), start=1):
        if not _same_value(a, b):
            return f"line {number}:\n  golden: {','.join(a)[:300]}\n  now:    {','.join(b)[:300]}"
    return None if len(want) == len(got) else f"golden has {len(want)} lines, now {len(got)}"


def test_the_comparison_catches_a_change_beyond_the_last_digits():
    line = b"month,date,share\n3,2023-04-01,0.3863816601402313\n"
    assert _first_difference("m.csv", line, line.replace(b"0.3863816601402313",
                                                         b"0.3863816601402134")) is None
    assert _first_difference("m.csv", line, line.replace(b"0.38638166", b"0.38638167"))
    assert _first_difference("m.csv", line, line.replace(b"2023-04-01", b"2023-05-01"))
    assert _first_difference("m.csv", line, line.replace(b"3,", b"4,", 1))
    assert _first_difference("s.json", b'{"a": [1.0, "x"]}', b'{"a": [1.0000001, "x"]}')
    assert _first_difference("s.json", b'{"a": 1}', b'{"a": 1.0}')


@pytest.mark.parametrize("scenario,seed,months", golden.CASES,
                         ids=[golden.case_name(s, n) for s, n, _ in golden.CASES])
def test_outputs_match_the_golden_files(scenario, seed, months):
    folder = GOLDEN / golden.case_name(scenario, seed)
    header = {name: (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
              for name in golden.TABLES}
    files = golden.outputs(scenario, seed, months,
                           columns={name: line.split(",") for name, line in header.items()})
    assert sorted(files) == sorted(p.name for p in folder.iterdir() if p.name != "README.md")
    for name, data in files.items():
        difference = _first_difference(name, (folder / name).read_bytes(), data)
        assert difference is None, f"{folder.name}/{name} differs, {difference}"
