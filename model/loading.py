"""Reading scenario files: YAML with line numbers, ``extends`` with deep merge, ``--set``
overrides, flat keyword names, and one-line errors that name the file, line and key path.

Paths address list entries by their ``id``: ``firms.openai.offerings.coding.markup``. The flat
twin of a path (for ``mesa.batch_run``, SolaraViz and EMA Workbench, whose parameters must be
Python identifiers) joins the same parts with ``__``: ``firms__openai__offerings__coding__markup``.
"""

from __future__ import annotations

import copy
import difflib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from model.scenario import OUTSIDE_INVESTOR, Scenario, Sourced

FLAT_SEPARATOR = "__"
# libyaml's safe loader when PyYAML was built with it (the PyPI wheels are): ~10× faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OVERRIDE_ORIGIN = "--set"

Path_ = tuple[str, ...]
Origins = dict[Path_, tuple[str, int | None]]


class ScenarioError(ValueError):
    """A scenario that cannot be used, told in one line: ``file:line: key.path: what is wrong``."""

    def __init__(self, file: str, message: str, *, line: int | None = None, path: str = ""):
        self.file, self.line, self.path, self.message = file, line, path, message
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")


# ---------------------------------------------------------------- YAML with line numbers


def _read_yaml(file: Path) -> tuple[dict[str, Any], Origins]:
    """The mapping in ``file`` and the line of every key path in it."""
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(shown, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(shown, f"cannot read file ({exc.__class__.__name__}: {exc})") from None
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(shown, f"YAML syntax error: {problem}", line=line) from None
    if data is None:
        raise ScenarioError(shown, "file is empty")
    if not isinstance(data, dict):
        raise ScenarioError(shown, "a scenario must be a mapping of keys to values", line=1)
    origins: Origins = {}
    _collect_lines(node, (), shown, origins)
    return data, origins


def _collect_lines(node: yaml.Node, path: Path_, file: str, origins: Origins) -> None:
    origins[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            _collect_lines(value_node, child, file, origins)
            origins[child] = (file, key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, _item_key(item, index)), file, origins)


def _item_key(item: yaml.Node, index: int) -> str:
    """A list entry's path part: its ``id`` if it has one, else its index."""
    if isinstance(item, yaml.MappingNode):
        for key_node, value_node in item.value:
            if key_node.value == "id" and isinstance(value_node, yaml.ScalarNode):
                return str(value_node.value)
    return str(index)


# ---------------------------------------------------------------- extends and deep merge


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` laid on ``base``: mappings merge key by key, lists of entries merge by ``id``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if _is_id_list(base) and _is_id_list(over):
        merged_list = [copy.deepcopy(entry) for entry in base]
        position = {entry["id"]: i for i, entry in enumerate(merged_list)}
        for entry in over:
            if entry["id"] in position:
                i = position[entry["id"]]
                merged_list[i] = deep_merge(merged_list[i], entry)
            else:
                merged_list.append(copy.deepcopy(entry))
        return merged_list
    return copy.deepcopy(over)


def _is_id_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(e, dict) and "id" in e for e in value)


def _resolve(file: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], Origins]:
    """The file's data with every ``extends`` ancestor merged beneath it."""
    data, origins = _read_yaml(file)
    parent_name = data.get("extends")
    if parent_name is None:
        return data, origins
    if not isinstance(parent_name, str):
        raise ScenarioError(str(file), "must be a file name", line=origins[("extends",)][1],
                            path="extends")
    parent = (file.parent / parent_name).resolve()
    if parent in chain or parent == file.resolve():
        cycle = " → ".join(p.name for p in (*chain, file.resolve(), parent))
        raise ScenarioError(str(file), f"cycle in extends: {cycle}",
                            line=origins[("extends",)][1], path="extends")
    if not parent.exists():
        raise ScenarioError(str(file), f"extends a file that does not exist: {parent_name}",
                            line=origins[("extends",)][1], path="extends")
    base, base_origins = _resolve(parent, (*chain, file.resolve()))
    merged = deep_merge(base, data)
    merged["extends"] = parent_name
    merged_origins = {**base_origins, **origins}
    if "name" not in data:  # a name is not inherited: it defaults to this file's stem
        merged.pop("name", None)
        merged_origins.pop(("name",), None)
    return merged, merged_origins


# ---------------------------------------------------------------- overrides


def parse_assignments(items: Iterable[str], *, file: str = OVERRIDE_ORIGIN) -> dict[str, Any]:
    """``["a.b=3", "c=x"]`` → ``{"a.b": 3, "c": "x"}``; values are read as YAML scalars."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(file, f"expected path.to.key=value, got {item!r}",
                                path=key.strip() if sep else "")
        try:
            parsed[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            parsed[key.strip()] = raw
    return parsed


def flat_to_path(name: str) -> str:
    """``first_mover__switching_cost_utils`` → ``first_mover.switching_cost_utils``."""
    return name.replace(FLAT_SEPARATOR, ".")


def path_to_flat(path: str) -> str:
    return path.replace(".", FLAT_SEPARATOR)


def _apply_override(data: dict[str, Any], dotted: str, value: Any, shown: str) -> None:
    parts = dotted.split(".")
    node: Any = data
    walked: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            ids = [str(entry.get("id")) for entry in node if isinstance(entry, dict)]
            if part not in ids:
                raise ScenarioError(
                    shown, f"no entry with id {part!r}{_suggest(part, ids)}",
                    path=".".join((*walked, part)),
                )
            index = ids.index(part)
            if last:
                raise ScenarioError(shown, "cannot replace a whole entry; set one of its keys",
                                    path=".".join((*walked, part)))
            node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ScenarioError(shown, f"{'.'.join(walked)} is a value, not a section",
                                path=dotted)
        walked.append(part)


# ---------------------------------------------------------------- validation errors


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class whose field set governs the key at ``loc``."""
    current: Any = Scenario
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            if typing.get_origin(current) not in (list, tuple, dict):
                current = _unwrap(current)  # X | None → X
        else:
            current = _unwrap(current)  # a list index or dict key: the entry's type
            if current is None:
                return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Inner type of ``list[X]``, ``dict[str, X]`` or ``X | None``; ``X`` itself otherwise."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return args[0] if args else None
    if origin is dict:
        return args[1] if len(args) == 2 else None
    if args and len(args) == 1:
        return args[0]
    return annotation


def _named_loc(loc: tuple[Any, ...], data: Any) -> tuple[str, ...]:
    """Pydantic's ``('firms', 2, 'cash_musd')`` → ``('firms', 'openai', 'cash_musd')``."""
    named: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            entry = node[part]
            named.append(str(entry["id"]) if isinstance(entry, dict) and "id" in entry
                         else str(part))
            node = entry
        else:
            named.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return tuple(named)


def _line_of(path: Path_, origins: Origins, default_file: str) -> tuple[str, int | None]:
    for end in range(len(path), -1, -1):
        if path[:end] in origins:
            return origins[path[:end]]
    return default_file, None


def _first_error(exc: ValidationError, data: dict, origins: Origins, file: str) -> ScenarioError:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    path = _named_loc(loc, data)
    dotted = ".".join(path)
    where, line = _line_of(path, origins, file)
    shown = file if where == file else f"{file} (from {where})"
    if where == OVERRIDE_ORIGIN:
        shown, line = f"{file} (from --set)", None
    if error["type"] == "extra_forbidden":
        model_cls = _model_at(loc)
        valid = list(model_cls.model_fields) if model_cls else []
        message = f"unknown key {path[-1]!r}{_suggest(path[-1], valid)}"
    elif error["type"] == "missing":
        message = "required key is missing"
    else:
        got = error.get("input")
        message = f"{error['msg']} (got {got!r})" if not isinstance(got, dict | list) else error["msg"]
    return ScenarioError(shown, message, line=line, path=dotted)


def _check_references(scenario: Scenario, origins: Origins, file: str) -> None:
    """Cross-entry rules pydantic cannot see: unique ids, known ids, shares that sum to 1."""

    def fail(path: Path_, message: str) -> None:
        where, line = _line_of(path, origins, file)
        shown = file if where == file else f"{file} (from {where})"
        raise ScenarioError(shown, message, line=line, path=".".join(path))

    for section, entries in (("segments", scenario.segments), ("cohorts", scenario.cohorts),
                             ("firms", scenario.firms), ("events", scenario.events),
                             ("funding.investments", scenario.funding.investments),
                             ("funding.vc_pools", scenario.funding.vc_pools)):
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                fail((*section.split("."), entry.id), f"duplicate id {entry.id!r}")
            seen.add(entry.id)
    if not scenario.segments:
        fail(("segments",), "at least one segment is needed")
    if not scenario.firms:
        fail(("firms",), "at least one firm is needed")
    total = sum(c.share for c in scenario.cohorts)
    if not scenario.cohorts or abs(total - 1.0) > 1e-6:
        fail(("cohorts",), f"cohort shares must sum to 1 (they sum to {total:g})")

    segment_ids = scenario.segment_ids()
    ids_of = {kind: [f.id for f in scenario.firms_of(kind)] for kind in ("lab", "bigtech", "app")}
    all_firms = scenario.firm_ids()

    def check(path: Path_, value: str | None, known: list[str], what: str) -> None:
        if value is not None and value not in known:
            fail(path, f"unknown {what} {value!r}{_suggest(value, known)}")

    for path, entry in sourced_entries(scenario):
        for key in entry.sources:
            if key not in type(entry).model_fields:
                fail((*path, "sources", key), f"sources names unknown key {key!r}"
                     f"{_suggest(key, type(entry).model_fields)}")
    for firm in scenario.firms:
        where = ("firms", firm.id)
        for segment_id in firm.offerings:
            check((*where, "offerings", segment_id), segment_id, segment_ids, "segment id")
        for segment_id in firm.distribution_utils:
            check((*where, "distribution_utils", segment_id), segment_id, segment_ids,
                  "segment id")
        check((*where, "owner"), firm.owner, ids_of["bigtech"], "big tech id")
        check((*where, "champion"), firm.champion, ids_of["lab"], "lab id")
        check((*where, "supplier"), firm.supplier, ids_of["lab"], "lab id")
        if firm.kind == "app" and (len(firm.offerings) != 1 or firm.supplier is None):
            fail(where, "an app builder needs exactly one offering and a supplier lab")
    for investment in scenario.funding.investments:
        where = ("funding", "investments", investment.id)
        check((*where, "investor"), investment.investor, [*all_firms, OUTSIDE_INVESTOR],
              "firm id")
        check((*where, "investee"), investment.investee, all_firms, "firm id")
    for segment in scenario.segments:
        check(("segments", segment.id, "first_mover"), segment.first_mover,
              [*ids_of["lab"], *ids_of["app"]], "lab or app id")
    for index, segment_id in enumerate(scenario.open_source.segments):
        check(("open_source", "segments", str(index)), segment_id, segment_ids, "segment id")
    for event in scenario.events:
        where = ("events", event.id)
        check((*where, "firm"), event.firm, all_firms, "firm id")
        check((*where, "segment"), event.segment, segment_ids, "segment id")
        check((*where, "partner"), event.partner, ids_of["lab"], "lab id")
        if event.kind == "enter_segment" and event.segment is None:
            fail(where, "an enter_segment event needs a segment")
        if event.kind == "model_release" and event.quality is None:
            fail(where, "a model_release event needs the model's quality")
        if event.kind == "licence_start" and event.partner is None:
            fail(where, "a licence_start event needs a partner (the licensor lab)")
    for segment in scenario.segments:
        starting = sum(f.offerings[segment.id].initial_users for f in scenario.firms
                       if segment.id in f.offerings)
        if starting > segment.potential_users:
            fail(("segments", segment.id, "potential_users"),
                 f"initial users of all firms ({starting:.3g}) exceed potential users "
                 f"({segment.potential_users:.3g})")


def sourced_entries(node: Any, path: Path_ = ()) -> Iterable[tuple[Path_, Sourced]]:
    """Every entry with a ``sources`` mapping, with its key path."""
    if isinstance(node, Sourced):
        yield path, node
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from sourced_entries(getattr(node, name), (*path, name))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from sourced_entries(item, (*path, str(getattr(item, "id", index))))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from sourced_entries(item, (*path, str(key)))


# ---------------------------------------------------------------- public API


def load_scenario(
    source: str | Path | Scenario,
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """A validated :class:`Scenario` from a file (or a scenario), with dotted-path overrides.

    Raises :class:`ScenarioError` with a one-line message on any bad input.
    """
    if isinstance(source, Scenario):
        data, origins, shown = source.model_dump(mode="python"), {}, f"<scenario {source.name}>"
    else:
        file = Path(source)
        shown = str(source)
        data, origins = _resolve(file, ())
        data.setdefault("name", file.stem)
    for dotted, value in (overrides or {}).items():
        _apply_override(data, dotted, value, f"{shown} (from --set)")
        parts = tuple(dotted.split("."))
        for end in range(1, len(parts)):  # keys the override created are not in the file
            origins.setdefault(parts[:end], (OVERRIDE_ORIGIN, None))
        origins[parts] = (OVERRIDE_ORIGIN, None)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, data, origins, shown) from None
    _check_references(scenario, origins, shown)
    return scenario


def scenario_with_flat(scenario: Scenario | str | Path, **flat: Any) -> Scenario:
    """A scenario with flat keyword overrides (``first_mover__switching_cost_utils=3``)."""
    return load_scenario(scenario, {flat_to_path(k): v for k, v in flat.items()})
