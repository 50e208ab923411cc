"""Every number has a unit, a range, a doc and a source; the parameter docs are current."""

from __future__ import annotations

import re
import typing

import pytest
import yaml
from pydantic import BaseModel

from moatsim import paramdoc
from moatsim.loading import sourced_entries
from moatsim.params import param_meta
from moatsim.scenario import Scenario
from tests.conftest import ROOT

FACT_IDS = {entry["id"] for entry in
            yaml.safe_load((ROOT / "seeds" / "facts.yaml").read_text(encoding="utf-8"))["facts"]}
STRUCTURAL = {"id", "name", "label", "kind", "release", "investor", "investee", "sources",
              "offerings", "description", "extends", "start", "firm", "segment", "partner",
              "enabled", "path"}  # a set event's path names a parameter; its value cites a source


def _models(model: type[BaseModel], seen=None):
    seen = seen if seen is not None else set()
    if model in seen:
        return
    seen.add(model)
    yield model
    for field in model.model_fields.values():
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            for inner in (arg, *typing.get_args(arg)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    yield from _models(inner, seen)


ALL_MODELS = list(_models(Scenario))


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_numeric_field_is_declared_with_unit_range_doc_and_source(model):
    for name, field in model.model_fields.items():
        if field.annotation in (int, float):
            meta = param_meta(field)
            assert meta, f"{model.__name__}.{name} is not declared with param()"
            assert meta["unit"] and field.description, name
            assert ("ge" in meta or "gt" in meta) and "le" in meta, f"{name} has no range"
            assert _is_valid_source(meta["source"]), f"{name}: bad source {meta['source']!r}"
            assert meta.get("ge", meta.get("gt")) <= field.default <= meta["le"]


def _is_valid_source(source: str) -> bool:
    """A seed fact id that exists, 'assumption: why', 'calibrated: targets (file, loss)', or
    an outside reference with a year."""
    if re.match(r"calibrated: [A-Za-z0-9_.]+(, [A-Za-z0-9_.]+)* \(\S+\.yaml, loss ", source):
        return True
    ids = set(re.findall(r"\b([MFCP]\d{1,2})\b", source))
    if ids and not ids <= FACT_IDS:
        return False
    return bool(ids) or "assumption:" in source or bool(re.search(r"(19|20)\d\d\b", source))


def test_source_checker_rejects_bad_sources():
    assert not _is_valid_source("F99: a fact that does not exist")
    assert not _is_valid_source("because I said so")
    assert _is_valid_source("assumption: round number")
    assert _is_valid_source("calibrated: H2, H6.openai (calibrations/baseline.yaml, loss 0.8; "
                            "hand-set 40)")
    assert not _is_valid_source("calibrated: by hand")


@pytest.mark.parametrize("scenario_file", sorted((ROOT / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_value_a_scenario_sets_for_an_entry_cites_a_source(scenario_file):
    from moatsim import load_scenario

    scenario = load_scenario(scenario_file)
    missing = []
    for path, entry in sourced_entries(scenario):
        for name in entry.model_fields_set - STRUCTURAL:
            source = entry.sources.get(name)
            if source is None or not _is_valid_source(source):
                missing.append(".".join((*path, name)))
    assert not missing, f"values without a (valid) source: {missing}"


def test_parameters_doc_is_current():
    assert paramdoc.is_current(paramdoc.doc_path()), "docs/parameters.md is stale: run `moatsim docs`"


def test_parameters_doc_goes_stale_when_the_schema_changes(monkeypatch):
    from moatsim.scenario import FirstMover

    field = FirstMover.model_fields["switching_cost_utils"]
    monkeypatch.setattr(field, "description", field.description + " (changed)")
    assert not paramdoc.is_current(paramdoc.doc_path())


def test_parameters_doc_lists_every_parameter_with_its_source():
    text = paramdoc.render()
    assert "`first_mover.switching_cost_utils`" in text
    assert "`firms.<id>.offerings.<segment>.markup`" in text
    assert "`segments.<id>.potential_users`" in text
    assert "Sultan, Farley & Lehmann 1990" in text
