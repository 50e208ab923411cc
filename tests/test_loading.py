"""moatsim.loading at the API level: deep merge, extends, overrides, flat names, error format."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest

from moatsim import loading
from moatsim.loading import (
    ScenarioError,
    deep_merge,
    flat_to_path,
    load_scenario,
    parse_assignments,
    path_to_flat,
    scenario_with_flat,
)
from moatsim.scenario import Firm, Scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A temporary folder holding a copy of the baseline, so children can say ``extends:``."""
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def firm(scenario: Scenario, firm_id: str):
    return next(f for f in scenario.firms if f.id == firm_id)


# ---------------------------------------------------------------- deep_merge


def test_deep_merge_merges_mappings_key_by_key() -> None:
    base = {"a": 1, "b": {"x": 1, "y": {"p": 1, "q": 2}}, "c": [1, 2]}
    over = {"b": {"y": {"q": 20, "r": 30}, "z": 3}, "d": 4}
    base_before = copy.deepcopy(base)
    over_before = copy.deepcopy(over)
    merged = deep_merge(base, over)
    assert merged == {"a": 1, "b": {"x": 1, "y": {"p": 1, "q": 20, "r": 30}, "z": 3},
                      "c": [1, 2], "d": 4}
    assert base == base_before and over == over_before  # inputs untouched
    merged["b"]["y"]["p"] = 99
    assert base["b"]["y"]["p"] == 1  # no shared structure with the base


def test_deep_merge_lists_of_entries_merge_by_id_keeping_order() -> None:
    base = [{"id": "a", "v": 1, "deep": {"k": 1, "j": 2}}, {"id": "b", "v": 2},
            {"id": "c", "v": 3}]
    over = [{"id": "new", "v": 9}, {"id": "b", "v": 20}, {"id": "a", "deep": {"k": 10}}]
    merged = deep_merge(base, over)
    assert [e["id"] for e in merged] == ["a", "b", "c", "new"]  # base order, new ids appended
    assert merged[0] == {"id": "a", "v": 1, "deep": {"k": 10, "j": 2}}
    assert merged[1] == {"id": "b", "v": 20}
    assert merged[2] == {"id": "c", "v": 3}
    assert merged[3] == {"id": "new", "v": 9}
    assert base[0]["deep"] == {"k": 1, "j": 2}


@pytest.mark.parametrize(
    "base,over",
    [
        ([1, 2, 3], [4]),  # scalars
        ([{"id": "a", "v": 1}], [{"v": 2}]),  # an entry without id: the list is replaced
        ([{"v": 1}], [{"id": "a", "v": 2}]),
        ({"k": 1}, 5),  # a value laid over a mapping replaces it
        (5, {"k": 1}),
        ([{"id": "a"}], {"a": 1}),
        ([1, 2], []),
    ],
)
def test_deep_merge_other_values_replace(base, over) -> None:
    assert deep_merge(base, over) == over


def test_deep_merge_nested_id_lists_inside_mappings() -> None:
    base = {"funding": {"investments": [{"id": "x", "amount": 1}]}}
    over = {"funding": {"investments": [{"id": "x", "amount": 2}, {"id": "y", "amount": 3}]}}
    assert deep_merge(base, over) == {
        "funding": {"investments": [{"id": "x", "amount": 2}, {"id": "y", "amount": 3}]}}


# ---------------------------------------------------------------- extends


CHILD = """\
extends: baseline.yaml
description: OpenAI with less cash, and a newcomer
firms:
  - id: openai
    cash_musd: 5
  - id: newco
    name: New Co
    kind: lab
    quality: 50
"""


def test_child_changes_one_firm_and_adds_one(folder: Path, baseline: Scenario) -> None:
    child = load_scenario(write(folder, "child.yaml", CHILD))
    assert child.firm_ids() == [*baseline.firm_ids(), "newco"]
    openai, base_openai = firm(child, "openai"), firm(baseline, "openai")
    assert openai.cash_musd == 5
    assert openai.model_dump(exclude={"cash_musd"}) == base_openai.model_dump(
        exclude={"cash_musd"})
    for other in baseline.firms:
        if other.id != "openai":
            assert firm(child, other.id) == other
    newco = firm(child, "newco")
    assert (newco.name, newco.kind, newco.quality) == ("New Co", "lab", 50)
    assert newco.cash_musd == Firm.model_fields["cash_musd"].default  # schema default
    for section in ("start", "months", "segments", "cohorts", "choice", "first_mover",
                    "commoditization", "technology", "funding"):
        assert getattr(child, section) == getattr(baseline, section), section
    assert child.description == "OpenAI with less cash, and a newcomer"
    assert child.extends == "baseline.yaml"


def test_multi_level_extends(folder: Path, baseline: Scenario) -> None:
    write(folder, "b.yaml", """\
extends: baseline.yaml
first_mover:
  switching_cost_utils: 4
firms:
  - id: openai
    cash_musd: 10
    offerings:
      coding:
        markup: 2
""")
    c_path = write(folder, "c.yaml", """\
extends: b.yaml
description: third level
months: 24
firms:
  - id: openai
    quality: 80
""")
    c = load_scenario(c_path)
    assert c.months == 24 and c.description == "third level"
    assert c.first_mover.switching_cost_utils == 4  # from b
    assert c.first_mover.reconsider_share_monthly == baseline.first_mover.reconsider_share_monthly
    openai = firm(c, "openai")
    assert (openai.cash_musd, openai.quality) == (10, 80)
    assert openai.offerings["coding"].markup == 2
    base_coding = firm(baseline, "openai").offerings["coding"]
    assert openai.offerings["coding"].initial_users == base_coding.initial_users
    assert openai.offerings.keys() == firm(baseline, "openai").offerings.keys()
    assert c.firm_ids() == baseline.firm_ids()
    assert c.extends == "b.yaml"


def test_error_in_a_parent_names_the_child_and_the_parent_line(folder: Path) -> None:
    write(folder, "b.yaml", "extends: baseline.yaml\nmonths: 0\n")
    c_path = write(folder, "c.yaml", "extends: b.yaml\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(c_path)
    err = caught.value
    assert err.line == 2 and err.path == "months"
    assert err.file.startswith(str(c_path)) and "b.yaml" in err.file


# ---------------------------------------------------------------- overrides and flat names


def test_overrides_set_firm_and_section_values(baseline: Scenario) -> None:
    changed = load_scenario(BASELINE, {"firms.openai.cash_musd": 5})
    assert firm(changed, "openai").cash_musd == 5
    assert firm(changed, "anthropic") == firm(baseline, "anthropic")
    changed = load_scenario(BASELINE, {"first_mover.switching_cost_utils": 3})
    assert changed.first_mover.switching_cost_utils == 3
    assert changed.firms == baseline.firms
    changed = load_scenario(BASELINE, {"firms.openai.offerings.coding.markup": 1.5,
                                       "months": 12})
    assert firm(changed, "openai").offerings["coding"].markup == 1.5
    assert changed.months == 12


def test_overrides_do_not_change_the_loaded_source(baseline: Scenario) -> None:
    before = baseline.model_dump()
    changed = load_scenario(baseline, {"firms.openai.cash_musd": 5})
    assert firm(changed, "openai").cash_musd == 5
    assert baseline.model_dump() == before
    assert firm(baseline, "openai").cash_musd != 5


def test_overrides_are_validated() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BASELINE, {"first_mover.reconsider_share_monthly": 1.5})
    assert caught.value.path == "first_mover.reconsider_share_monthly"
    assert caught.value.line is None and "(from --set)" in caught.value.file
    with pytest.raises(ScenarioError, match="did you mean 'openai'"):
        load_scenario(BASELINE, {"firms.opneai.cash_musd": 5})


def test_flat_names_equal_dotted_overrides() -> None:
    flat = scenario_with_flat(BASELINE, first_mover__switching_cost_utils=3)
    dotted = load_scenario(BASELINE, {"first_mover.switching_cost_utils": 3})
    assert flat == dotted
    assert flat.first_mover.switching_cost_utils == 3
    flat = loading.scenario_with_flat(BASELINE, firms__openai__offerings__coding__markup=2.0)
    assert flat == load_scenario(BASELINE, {"firms.openai.offerings.coding.markup": 2.0})


def test_flat_name_round_trip() -> None:
    dotted = "firms.openai.offerings.coding.markup"
    assert path_to_flat(dotted) == "firms__openai__offerings__coding__markup"
    assert flat_to_path(path_to_flat(dotted)) == dotted


def test_parse_assignments_reads_yaml_scalars() -> None:
    parsed = parse_assignments([
        "months=12", "first_mover.switching_cost_utils=2.5", "a=2.5e+3", "b=true", "c=false",
        "firms.openai.release=open_weights", "d = spaced ", "e=", "f=x=y", "start=2024-03",
    ])
    assert parsed == {
        "months": 12, "first_mover.switching_cost_utils": 2.5, "a": 2500.0, "b": True,
        "c": False, "firms.openai.release": "open_weights", "d": "spaced", "e": "",
        "f": "x=y", "start": "2024-03",
    }
    assert isinstance(parsed["months"], int) and isinstance(parsed["a"], float)


def test_parsed_assignments_are_validated_like_file_values() -> None:
    # PyYAML reads "2.7e7" (no exponent sign) as a string; the schema still takes it as a number
    parsed = parse_assignments(["segments.coding.potential_users=2.7e7", "months=-1"])
    scenario = load_scenario(BASELINE, {k: v for k, v in parsed.items() if k != "months"})
    assert next(s for s in scenario.segments if s.id == "coding").potential_users == 2.7e7
    with pytest.raises(ScenarioError, match="greater than or equal to 1"):
        load_scenario(BASELINE, parsed)


@pytest.mark.parametrize("item", ["novalue", "=3"])
def test_parse_assignments_rejects_malformed_items(item: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_assignments([item], file="x.yaml (from --set)")
    assert str(caught.value).startswith("x.yaml (from --set): ")
    assert item in str(caught.value)


# ---------------------------------------------------------------- errors and names


def test_scenario_error_format() -> None:
    err = ScenarioError("a.yaml", "bad value", line=7, path="first_mover.switching_cost_utils")
    assert str(err) == "a.yaml:7: first_mover.switching_cost_utils: bad value"
    assert (err.file, err.line, err.path, err.message) == (
        "a.yaml", 7, "first_mover.switching_cost_utils", "bad value")
    assert str(ScenarioError("a.yaml", "file not found")) == "a.yaml: file not found"
    assert str(ScenarioError("a.yaml", "oops", path="months")) == "a.yaml: months: oops"
    assert str(ScenarioError("a.yaml", "oops", line=3)) == "a.yaml:3: oops"
    assert isinstance(err, ValueError)


def test_load_error_is_one_line_with_file_line_and_path(folder: Path) -> None:
    path = write(folder, "child.yaml", CHILD + "    cash_mus: 5\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message == (f"{path}:10: firms.newco.cash_mus: unknown key 'cash_mus' "
                       "(did you mean 'cash_musd'?)")


@pytest.mark.parametrize("text,expected", [
    ("", "file is empty"),
    ("# only a comment\n", "file is empty"),
    ("- a\n- b\n", "must be a mapping"),
    ("extends: [a.yaml]\n", "extends: must be a file name"),
])
def test_files_that_are_not_scenarios(folder: Path, text: str, expected: str) -> None:
    path = write(folder, "odd.yaml", text)
    with pytest.raises(ScenarioError, match=re.escape(expected)):
        load_scenario(path)


def test_name_defaults_to_the_file_stem(folder: Path) -> None:
    text = BASELINE.read_text(encoding="utf-8").replace("name: baseline\n", "", 1)
    assert "name: baseline" not in text
    assert load_scenario(write(folder, "my_world.yaml", text)).name == "my_world"
    assert load_scenario(BASELINE).name == "baseline"  # set in the file


def test_name_is_not_inherited_through_extends(folder: Path) -> None:
    # otherwise `moatsim run child.yaml` would write to (and replace) runs/baseline-seed1
    assert load_scenario(write(folder, "child.yaml", CHILD)).name == "child"
    write(folder, "named.yaml", "extends: baseline.yaml\nname: named_world\n")
    assert load_scenario(write(folder, "grandchild.yaml", "extends: named.yaml\n")).name == \
        "grandchild"
    assert load_scenario(folder / "named.yaml").name == "named_world"


BASELINE_PATH = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def test_scheduled_events_are_checked_against_firms_and_segments(tmp_path):
    from moatsim.loading import ScenarioError, load_scenario

    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {BASELINE_PATH}\n"
        "description: bad event\n"
        "events:\n"
        "  - id: oops\n"
        "    date: \"2024-01\"\n"
        "    kind: open_release\n"
        "    firm: opanai\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    message = str(caught.value)
    assert "events.oops.firm" in message and "'openai'" in message and ":7:" in message


# ---------------------------------------------------------------- issue 9: reading safely


def laughs(levels: int) -> str:
    names = "abcdefghijklmnopqrstuvwxyz"
    lines = [f"a: &a [{','.join(['lol'] * 9)}]"]
    for previous, name in zip(names, names[1:levels]):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_python_objects_exist(tmp_path: Path) -> None:
    import time
    import tracemalloc

    path = write(tmp_path, "bomb.yaml", laughs(12))  # 9**12 ≈ 2.8e11 values
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ScenarioError, match=r"bomb.yaml:6: expands to more than 100,000"):
            loading._read_yaml(path)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, f"{peak / 2**20:.1f} MB"
    assert seconds < 5


def test_the_expansion_bound_counts_each_alias_by_what_it_names(tmp_path: Path) -> None:
    # 4 levels of 9: 7,381 values, read; the same with one more level (66,430) is read too;
    # the count is memoised, so a wide file of aliases costs no more than its text
    data, origins = loading._read_yaml(write(tmp_path, "ok.yaml", laughs(5)))
    assert len(data["e"]) == 9 and data["e"][0][0][0][0] == ["lol"] * 9
    assert ("e", "0") in origins and ("e", "0", "0") not in origins  # aliases walked once
    assert origins[("a", "3")] == (str(tmp_path / "ok.yaml"), 1)


@pytest.mark.parametrize("text", [
    "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "a: " + "{b: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "a:\n" + "- " * 10_000 + "x\n",
])
def test_deep_nesting_is_a_depth_error_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ScenarioError, match="nested deeper than 50 levels"):
        loading._read_yaml(write(tmp_path, "deep.yaml", text))


def test_depth_counts_what_aliases_stand_for(tmp_path: Path) -> None:
    fine = "x: &x " + "[" * 25 + "]" * 25 + "\ny: " + "[" * 24 + "*x" + "]" * 24 + "\n"
    loading._read_yaml(write(tmp_path, "fine.yaml", fine))  # 49 levels
    deep = fine.replace("[" * 24 + "*x" + "]" * 24, "[" * 26 + "*x" + "]" * 26)
    with pytest.raises(ScenarioError, match=r"deep.yaml:2: nested deeper than 50 levels"):
        loading._read_yaml(write(tmp_path, "deep.yaml", deep))


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * loading.MAX_FILE_BYTES)
    with pytest.raises(ScenarioError, match="larger than 1 MiB"):
        loading._read_yaml(path)
    path.write_bytes(b"a: 1\n#" + b"x" * (loading.MAX_FILE_BYTES - 10) + b"\n")
    assert loading._read_yaml(path)[0] == {"a": 1}


@pytest.mark.parametrize("text,expected", [
    ("a: 1\nb: 2\na: 3\n", ":3: a: duplicate key 'a' (first at line 1)"),
    ("a: {yes: 1, true: 2}\n", ":1: a.true: duplicate key 'true'"),  # both read as True
    ("x: [{id: a}, {id: b}, {id: a}]\n", ":1: x.a: duplicate id 'a'"),
    ("a: &r [*r]\n", ":1: YAML syntax error: alias *r names no anchor finished before it"),
    ("a: 1\n---\nb: 2\n", ":2: a file holds one YAML document"),
    ("a: !!python/object:os.system x\n", ":1: YAML syntax error: could not determine a "
     "constructor"),
])
def test_yaml_problems_are_one_line_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        loading._read_yaml(write(tmp_path, "odd.yaml", text))
    assert expected in str(caught.value)


def test_merge_keys_work_and_point_at_the_merge_line(tmp_path: Path) -> None:
    text = "base: &b {p: 1, q: 2, deep: {r: 3}}\nuse:\n  <<: *b\n  q: 20\n"
    data, origins = loading._read_yaml(write(tmp_path, "merge.yaml", text))
    assert data["use"] == {"p": 1, "q": 20, "deep": {"r": 3}}
    shown = str(tmp_path / "merge.yaml")
    assert origins[("use", "p")] == (shown, 3) and origins[("use", "q")] == (shown, 4)
    assert loading._line_of(("use", "deep", "r"), origins, shown) == (shown, 3)


def test_an_error_inside_an_alias_points_at_its_use(folder: Path) -> None:
    text = """\
extends: baseline.yaml
description: an anchor in a new firm, used by another
firms:
  - id: newco
    name: New Co
    kind: lab
    offerings:
      coding: &offer {markup: 99}
  - id: anthropic
    offerings:
      coding: *offer
"""
    path = write(folder, "alias.yaml", text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)  # anthropic comes first among the firms, so its error is reported
    assert str(caught.value).startswith(f"{path}:11: firms.anthropic.offerings.coding.markup: ")
    scenario = load_scenario(write(folder, "ok.yaml", text.replace("99", "2")))
    assert firm(scenario, "anthropic").offerings["coding"].markup == 2
    assert firm(scenario, "newco").offerings["coding"].markup == 2


def test_a_long_chain_of_extends_is_refused(folder: Path) -> None:
    write(folder, "f0.yaml", "extends: baseline.yaml\n")
    for i in range(1, 25):
        write(folder, f"f{i}.yaml", f"extends: f{i - 1}.yaml\n")
    assert load_scenario(folder / "f15.yaml").name == "f15"
    with pytest.raises(ScenarioError, match="more than 20 files in a chain of extends"):
        load_scenario(folder / "f24.yaml")


# ---------------------------------------------------------------- issue 9: names and dates


@pytest.mark.parametrize("stem,name", [
    ("baseline", "baseline"), ("my-scenario", "my_scenario"), ("2025_whatif", "s_2025_whatif"),
    ("My  Big--Scenario!", "my_big_scenario"), ("café", "cafe"), ("__x__", "x"),
    ("a" * 60, "a" * 40), ("x" * 39 + "_yz", "x" * 39), ("---", None), ("中文", None),
])
def test_name_from_stem(stem: str, name: str | None) -> None:
    from moatsim.scenario import IDENTIFIER_PATTERN

    assert loading.name_from_stem(stem) == name
    if name is not None:
        assert re.fullmatch(IDENTIFIER_PATTERN, name) and len(name) <= 40


def test_experiment_names_default_to_the_normalised_stem(tmp_path: Path) -> None:
    from moatsim.experiments.design import load_experiment

    text = (f"description: x\nscenario: {BASELINE}\nparameters:\n"
            "  first_mover.switching_cost_utils: {values: [1]}\n")
    assert load_experiment(write(tmp_path, "my-sweep.yaml", text)).name == "my_sweep"
    assert load_experiment(write(tmp_path, "2025.yaml", text)).name == "e_2025"


def test_a_shorter_run_does_not_make_later_events_errors(folder: Path) -> None:
    short = load_scenario(BASELINE, {"months": 3})  # deals in 2023-05 and later
    assert short.months == 3
    again = load_scenario(short)  # what sweeps and `moatsim run --months` pass on
    assert again.months == 3 and load_scenario(again, {"months": 6}).months == 6
    late = write(folder, "late.yaml", "extends: baseline.yaml\nmonths: 24\nevents:\n"
                 "  - {id: late, date: \"2026-01\", kind: exit, firm: jasper}\n")
    with pytest.raises(ScenarioError, match="is after the end"):
        load_scenario(late, {"months": 3})  # after the end its file says


def test_a_child_that_shortens_its_parent_leaves_the_parents_later_events_out(folder: Path
                                                                              ) -> None:
    """A parent with an event in 2026-01 and a child that ends in 2025-01: the child is valid,
    stays valid when passed on as a Scenario, and the event simply does not happen; the
    same event in the child's own file is an error (test above)."""
    write(folder, "parent.yaml", "extends: baseline.yaml\nevents:\n"
          "  - {id: late, date: \"2026-01\", kind: exit, firm: jasper}\n")
    short = load_scenario(write(folder, "short.yaml", "extends: parent.yaml\nmonths: 24\n"))
    assert short.months == 24 and any(e.id == "late" for e in short.events)
    assert load_scenario(short).months == 24  # what run_scenario and sweeps pass on
    from moatsim import run_scenario

    events = run_scenario(short, seed=1).events
    assert not ((events["kind"] == "exit") & (events["firm"] == "jasper")).any()


# ---------------------------------------------------------------- issue 9: every number ranged


def _numeric_slots(annotation, where):
    """(description, metadata) of every int or float inside ``annotation``: the type itself,
    ``X | None``, list items, dict keys and values."""
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(annotation)
        found = list(_numeric_slots(inner, where))
        constraints = [m for item in metadata
                       for m in (getattr(item, "metadata", None) or [item])]
        return [(w, [*meta, *constraints]) for w, meta in found]
    if annotation in (int, float):
        return [(where, [])]
    slots = []
    args = typing.get_args(annotation)
    if origin is dict:
        slots += _numeric_slots(args[0], f"{where} key") + _numeric_slots(args[1], f"{where} value")
    else:
        for arg in args:
            if arg is not type(None):
                slots += _numeric_slots(arg, where)
    return slots


def _all_models():
    import typing

    from pydantic import BaseModel

    from moatsim.experiments.design import Experiment

    seen, todo = [], [Scenario, Experiment]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            stack = [field.annotation]
            while stack:
                arg = stack.pop()
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    todo.append(arg)
                stack.extend(typing.get_args(arg))
    return seen


# checked at load time against the range of the parameter they vary (or set)
RANGED_BY_THE_PARAMETER = {"ParameterSpec.values", "ParameterSpec.range", "ScheduledEvent.value"}


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: m.__name__)
def test_every_number_in_the_schema_has_both_bounds_and_must_be_finite(model) -> None:
    assert model.model_config.get("allow_inf_nan") is False, model.__name__
    for name, field in model.model_fields.items():
        where = f"{model.__name__}.{name}"
        if field.annotation is bool or where in RANGED_BY_THE_PARAMETER:
            continue
        for slot, metadata in _numeric_slots(field.annotation, where):
            if slot == where:  # the field itself: param() and Field() put bounds here
                metadata = [*metadata, *field.metadata]
            lower = [m for m in metadata if getattr(m, "ge", None) is not None
                     or getattr(m, "gt", None) is not None]
            upper = [m for m in metadata if getattr(m, "le", None) is not None
                     or getattr(m, "lt", None) is not None]
            assert lower and upper, f"{slot} has no {'lower' if not lower else 'upper'} bound"


def test_the_schema_walk_sees_dict_values_and_optional_numbers() -> None:
    from moatsim.scenario import Firm, ScheduledEvent, VCPool

    slots = dict(_numeric_slots(Firm.model_fields["distribution_utils"].annotation, "d"))
    assert set(slots) == {"d value"}
    assert {type(m).__name__ for m in slots["d value"]} >= {"Ge", "Le"}
    assert [w for w, _ in _numeric_slots(VCPool.model_fields["annual_musd"].annotation, "a")] \
        == ["a key", "a value"]
    assert _numeric_slots(ScheduledEvent.model_fields["quality"].annotation, "q") == [("q", [])]


# ---------------------------------------------------------------- issue 11: files parsed once


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files ``_compose`` parses during the test, starting from an empty read cache (the
    process's own cache is put back afterwards)."""
    from collections import OrderedDict

    monkeypatch.setattr(loading, "_read_cache", OrderedDict())
    parsed: list[str] = []
    compose = loading._compose

    def counting(text: str, shown: str):
        parsed.append(shown)
        return compose(text, shown)

    monkeypatch.setattr(loading, "_compose", counting)
    return parsed


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (no wait of RECENT_CHANGE_NS)."""
    monkeypatch.setattr(loading, "RECENT_CHANGE_NS", 0)


def same_size_same_mtime(path: Path, text: str, *, replace: bool) -> None:
    """``text`` (as long as the old one) written to ``path`` with the old mtime put back: in
    place (same inode) until the ctime has moved on, or as a new file renamed over it."""
    import os
    import time

    before = os.stat(path)
    assert len(text.encode()) == before.st_size
    deadline = time.monotonic() + 5
    while True:
        target = path.with_name(path.name + ".new") if replace else path
        target.write_text(text, encoding="utf-8")
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        if replace:
            os.replace(target, path)
        after = os.stat(path)
        if replace or after.st_ctime_ns != before.st_ctime_ns or time.monotonic() > deadline:
            break
        time.sleep(0.005)  # the filesystem's clock has not ticked since the last write
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    if replace:
        assert after.st_ino != before.st_ino  # created while the old file still held its inode
    else:
        assert after.st_ino == before.st_ino and after.st_ctime_ns != before.st_ctime_ns


def test_an_unchanged_file_is_parsed_once(tmp_path: Path, parses, settled) -> None:
    path = write(tmp_path, "once.yaml", "a: 1\nb: [x, {id: y, v: 2}]\n")
    first = loading._read_yaml(path)
    second = loading._read_yaml(path)
    assert first == second == loading._read_yaml(path)
    assert parses == [str(path)]


def test_a_file_changed_just_now_is_parsed_every_time(tmp_path: Path, parses) -> None:
    # a second same-size write in the same timestamp tick would leave the stat as it was
    path = write(tmp_path, "fresh.yaml", "a: 1\n")
    assert loading._read_yaml(path)[0] == loading._read_yaml(path)[0] == {"a": 1}
    assert parses == [str(path)] * 2


@pytest.mark.parametrize("replace", [False, True], ids=["in-place", "renamed-over"])
def test_same_size_and_mtime_but_new_content_is_read_again(
        tmp_path: Path, parses, settled, replace: bool) -> None:
    path = write(tmp_path, "same.yaml", "a: 1\n")
    assert loading._read_yaml(path)[0] == loading._read_yaml(path)[0] == {"a": 1}
    assert len(parses) == 1
    same_size_same_mtime(path, "a: 2\n", replace=replace)  # ctime (in place) or inode differs
    assert loading._read_yaml(path)[0] == {"a": 2}
    assert len(parses) == 2


def test_a_bigger_newer_or_deleted_file_is_read_again(tmp_path: Path, parses, settled) -> None:
    import os

    path = write(tmp_path, "grow.yaml", "a: 1\n")
    os.utime(path, ns=(10**18, 10**18))  # 2001
    assert loading._read_yaml(path)[0] == {"a": 1}
    write(tmp_path, "grow.yaml", "a: 1\nb: 2\n")
    assert loading._read_yaml(path)[0] == {"a": 1, "b": 2}
    path.unlink()
    for _ in range(2):
        with pytest.raises(ScenarioError, match=r"grow.yaml: file not found$"):
            loading._read_yaml(path)
    write(tmp_path, "grow.yaml", "c: 3\n")
    assert loading._read_yaml(path)[0] == {"c": 3}
    assert len(parses) == 3


def test_a_file_changed_while_it_is_read_is_not_kept(tmp_path: Path, parses, settled,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    path = write(tmp_path, "racing.yaml", "a: 1\n")
    fstat = os.fstat
    calls: list[int] = []

    def fstat_then_append(fd: int):
        result = fstat(fd)
        if not calls:  # the stat before the read: another process writes right after it
            calls.append(fd)
            with path.open("a", encoding="utf-8") as stream:
                stream.write("b: 2\n")
        return result

    monkeypatch.setattr(os, "fstat", fstat_then_append)
    loading._read_yaml(path)
    monkeypatch.setattr(os, "fstat", fstat)
    assert loading._read_yaml(path)[0] == {"a": 1, "b": 2}
    assert loading._read_yaml(path)[0] == {"a": 1, "b": 2}
    assert len(parses) == 2  # the racing read was not kept; the next one was


def test_what_a_caller_changes_does_not_reach_the_next_read(tmp_path: Path, parses,
                                                            settled) -> None:
    text = "a: &a {x: [1, 2]}\nb: *a\nfirms: [{id: f, cash: 1}]\n"
    path = write(tmp_path, "mutable.yaml", text)
    data, origins = loading._read_yaml(path)
    expected, expected_origins = copy.deepcopy(data), dict(origins)
    assert data["a"] is data["b"]  # an alias is one object, as yaml.safe_load makes it
    data["a"]["x"].append(3)
    data["firms"][0]["cash"] = 99
    data["new"] = 1
    origins[("new",)] = ("elsewhere", 1)
    origins.pop(("a",))
    for _ in range(2):
        again, again_origins = loading._read_yaml(path)
        assert again == expected and again_origins == expected_origins
        assert again["a"] is again["b"] and again["a"] is not data["a"]
        again["firms"].clear()
    assert parses == [str(path)]


def test_a_bad_file_gives_the_same_error_every_time(tmp_path: Path, parses, settled) -> None:
    path = write(tmp_path, "bad.yaml", "a: 1\nb: 2\na: 3\n")
    messages = []
    for _ in range(3):
        with pytest.raises(ScenarioError) as caught:
            loading._read_yaml(path)
        messages.append(str(caught.value))
    assert messages == [f"{path}:3: a: duplicate key 'a' (first at line 1); a key may appear "
                        "once in a mapping"] * 3
    assert len(parses) == 3  # failures are not kept: every read goes through every check


def test_the_cache_keeps_the_most_recently_used_files(tmp_path: Path, parses, settled,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "READ_CACHE_SIZE", 2)
    a, b, c = (write(tmp_path, f"{n}.yaml", f"{n}: 1\n") for n in "abc")
    for path in (a, b, a, c, a, b):  # c pushes out b (a was used more recently)
        loading._read_yaml(path)
    assert parses == [str(a), str(b), str(c), str(b)]
    assert len(loading._read_cache) == 2


def test_the_same_file_named_two_ways_keeps_each_name_in_its_errors(
        tmp_path: Path, parses, settled, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "named.yaml", "a: 1\n")
    monkeypatch.chdir(tmp_path)
    assert loading._read_yaml(Path("named.yaml"))[1][("a",)] == ("named.yaml", 1)
    assert loading._read_yaml(path)[1][("a",)] == (str(path), 1)


def test_loading_the_baseline_twice_gives_equal_scenarios(parses) -> None:
    first = load_scenario(BASELINE)
    changed = load_scenario(BASELINE, {"firms.openai.cash_musd": 5})  # changes its copy
    second = load_scenario(BASELINE)
    assert first == second and first.model_dump() == second.model_dump()
    assert firm(changed, "openai").cash_musd == 5 != firm(second, "openai").cash_musd
    assert len(parses) in (1, 3)  # 3 only if the checkout's baseline was written just now


def test_a_changed_parent_reaches_its_child(folder: Path, parses, settled) -> None:
    child = write(folder, "child.yaml", CHILD)
    assert load_scenario(child).months == 96
    assert load_scenario(child).months == 96
    parent = folder / "baseline.yaml"
    text = parent.read_text(encoding="utf-8")
    assert text.count("\nmonths: 96\n") == 1
    # a new size: a same-size rewrite this soon could fall in the tick of the last read
    write(folder, "baseline.yaml", text.replace("\nmonths: 96\n", "\nmonths: 108\n"))
    assert load_scenario(child).months == 108
    assert parses == [str(child), str(parent), str(parent)]  # the child is still kept
