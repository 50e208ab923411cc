"""Reading scenario files: YAML with line numbers, ``extends`` with deep merge, ``--set``
overrides, flat keyword names, and one-line errors that name the file, line and key path.

Paths address list entries by their ``id``: ``firms.openai.offerings.coding.markup``. The flat
twin of a path (for ``mesa.batch_run``, SolaraViz and EMA Workbench, whose parameters must be
Python identifiers) joins the same parts with ``__``: ``firms__openai__offerings__coding__markup``.

Each file is parsed once per process while it stays unchanged: :func:`_read_yaml` keeps what it
read (the data and the key-path lines) for the last :data:`READ_CACHE_SIZE` files, keyed on the
path as given, the resolved path, and the file's ``os.stat`` (device, inode, size, mtime and
ctime in ns), and hands every caller a fresh copy, so parameter sweeps, benchmarks and tests
that load the same scenario many times pay for the YAML once. A file that is changed, replaced
or deleted is read again (its stat no longer matches), and so is one changed within the last
:data:`RECENT_CHANGE_NS` (a second write in the same filesystem timestamp tick would leave its
stat as it was); a file that changes while it is read is not kept. Failures are never kept:
every read of a bad file goes through the same checks and gives the same message.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import os
import re
import stat
import threading
import time
import typing
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from moatsim import library
from moatsim.calendar import month_index, month_label
from moatsim.scenario import IDENTIFIER_PATTERN, OUTSIDE_INVESTOR, Scenario, Sourced

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

MAX_FILE_BYTES = 1 << 20
"""Largest scenario or experiment file read: the baseline, the biggest, is ~28 KB of hand-written
YAML; a file 40× that is a mistake (a data dump, a wrong path) or an attack, not a scenario."""
MAX_DEPTH = 50
"""Deepest nesting of mappings and lists, aliases included (scenarios nest at most 5 deep);
deeper input is refused before anything recursive (deep merge, pydantic) sees it."""
MAX_NODES = 100_000
"""Most values a file may expand to, each use of an alias counted by the size of what it names
(the baseline has ~1,500): refuses "billion laughs" alias bombs before Python objects exist."""
MERGE_TAG = "tag:yaml.org,2002:merge"


READ_CACHE_SIZE = 32
"""Files whose parsed YAML is kept per process (least recently used first out): a sweep,
benchmark or test session loads a handful of files (a scenario, its ``extends`` parents, an
experiment) many times, and the 11 scenarios and 4 experiments here fit together. An entry
is ~0.25 MB for the baseline; a file at the limits above could take tens of MB, so a
bound on the number of files also bounds memory."""
RECENT_CHANGE_NS = 2_000_000_000
"""A file whose mtime or ctime is less than this before the read is parsed but not kept:
filesystems stamp times in ticks (a few ms on Linux, 1-2 s on FAT, HFS+ and some network
mounts), so a same-size rewrite in the tick of the read would leave the stat unchanged and
the kept copy stale. Older files cannot be changed without changing their stat."""

_Signature = tuple[int, int, int, int, int]
_read_cache: OrderedDict[tuple[str, str], tuple[_Signature, dict[str, Any], Origins]] = \
    OrderedDict()
_read_cache_lock = threading.Lock()


def _read_yaml(file: Path) -> tuple[dict[str, Any], Origins]:
    """The mapping in ``file`` and the line of every key path in it.

    The text is parsed once into a node graph, with the limits above checked as it is built
    (depth, expanded size, one document, aliases only to finished anchors); duplicate mapping
    keys and duplicate entry ids are refused on the graph; Python objects are built from the
    same graph. Every problem is a :class:`ScenarioError` naming the line.

    An unchanged file read before is not parsed again (see the module docstring): the caller
    gets a fresh copy of what was read, which it may change freely.
    """
    shown = str(file)
    try:
        key = (shown, os.path.realpath(file))
        signature = _signature(os.stat(file))
    except (OSError, ValueError):
        key = signature = None  # not there or not readable: the read below says why
    if key is not None:
        with _read_cache_lock:
            kept = _read_cache.get(key)
            if kept is not None and kept[0] == signature:
                _read_cache.move_to_end(key)
            else:
                kept = None
        if kept is not None:
            return _fresh_copy(kept[1], {}), dict(kept[2])
    text, read_signature = _read_text(file, shown)
    data, origins = _parse(text, shown)
    if key is not None and read_signature is not None:
        with _read_cache_lock:
            _read_cache[key] = (read_signature, data, origins)
            _read_cache.move_to_end(key)
            while len(_read_cache) > READ_CACHE_SIZE:
                _read_cache.popitem(last=False)
        return _fresh_copy(data, {}), dict(origins)
    return data, origins


def _parse(text: str, shown: str) -> tuple[dict[str, Any], Origins]:
    try:
        node, alias_lines = _compose(text, shown)
        if node is None:
            raise ScenarioError(shown, "file is empty")
        origins = _collect_lines(node, shown, alias_lines)
        data = yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, shown) from None
    if data is None:
        raise ScenarioError(shown, "file is empty")
    if not isinstance(data, dict):
        raise ScenarioError(shown, "a scenario must be a mapping of keys to values", line=1)
    return data, origins


def _signature(status: os.stat_result) -> _Signature:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _read_text(file: Path, shown: str) -> tuple[str, _Signature | None]:
    """The file's text, and its stat if what was read may be kept: a regular file (not a pipe
    or device, whose stat says nothing of what the next read gives), the stat of the open file
    (so of the bytes read), the same before and after the read, and not changed recently."""
    try:
        with file.open("rb") as stream:
            opened = os.fstat(stream.fileno())
            before = _signature(opened)
            raw = stream.read(MAX_FILE_BYTES + 1)
            after = _signature(os.fstat(stream.fileno()))
    except FileNotFoundError:
        raise ScenarioError(shown, "file not found") from None
    except OSError as exc:
        raise ScenarioError(shown, f"cannot read file ({exc.__class__.__name__}: {exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(shown, f"file is larger than {MAX_FILE_BYTES // 2**20} MiB; scenario "
                            "and experiment files are hand-written YAML of a few KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(shown, f"cannot read file ({exc.__class__.__name__}: {exc})") from None
    settled = time.time_ns() - max(after[3], after[4]) >= RECENT_CHANGE_NS
    keep = stat.S_ISREG(opened.st_mode) and before == after and settled
    return text, (after if keep else None)


_ATOMS = frozenset({str, int, float, bool, type(None), bytes, datetime.date, datetime.datetime})
"""Types of the immutable values YAML's safe constructor builds (shared, never copied)."""


def _fresh_copy(value: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy`` for what the safe constructor builds, ~3× faster: dicts and lists
    are copied, immutable scalars shared; a value an alias reuses stays one object (``memo``,
    as deepcopy's); anything else (a ``!!set``, the tuples of ``!!omap``) goes to deepcopy.
    Recursion is bounded: the file's depth is checked when it is read."""
    cls = type(value)
    if cls in _ATOMS:
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    if cls is dict:
        new_dict: dict[Any, Any] = {}
        memo[id(value)] = new_dict
        for key, item in value.items():
            new_dict[key] = item if type(item) in _ATOMS else _fresh_copy(item, memo)
        return new_dict
    if cls is list:
        new_list: list[Any] = []
        memo[id(value)] = new_list
        new_list.extend(item if type(item) in _ATOMS else _fresh_copy(item, memo)
                        for item in value)
        return new_list
    return copy.deepcopy(value, memo)


def _syntax_error(exc: yaml.YAMLError, shown: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    line = mark.line + 1 if mark is not None else None
    return ScenarioError(shown, f"YAML syntax error: {problem}", line=line)


AliasLines = dict[tuple[int, int], int]
"""(id of a list node, index in it) → line of the alias written there."""


def _compose(text: str, shown: str) -> tuple[yaml.Node | None, AliasLines]:
    """The document's node graph, built from the parser's events without recursion, and the
    line of each alias used as a list item.

    An alias reuses its anchor's node, so the graph stays as small as the text; its expanded
    size (each alias counted by what it names) and depth are kept per node, memoised by node
    identity, so checking them is linear in the text. An anchor is usable only after its
    node is finished, so the graph has no cycles.
    """
    resolver = yaml.resolver.Resolver()
    anchors: dict[str, yaml.Node] = {}
    size: dict[int, int] = {}  # id(node) → values it expands to, itself included
    height: dict[int, int] = {}  # id(node) → levels of collections in it (0 for a scalar)
    open_: list[list[Any]] = []  # [node, anchor, pending mapping key]
    root: list[yaml.Node] = []
    alias_lines: AliasLines = {}
    created = 0

    def fail(mark: Any, message: str) -> typing.NoReturn:
        raise ScenarioError(shown, message, line=mark.line + 1 if mark is not None else None)

    def place(node: yaml.Node) -> None:
        if not open_:
            root.append(node)
            return
        parent = open_[-1]
        if isinstance(parent[0], yaml.SequenceNode):
            parent[0].value.append(node)
        elif parent[2] is None:
            parent[2] = node
        else:
            parent[0].value.append((parent[2], node))
            parent[2] = None

    def name(anchor: str | None, node: yaml.Node, mark: Any) -> None:
        if anchor is None:
            return
        if anchor in anchors:
            first = anchors[anchor].start_mark.line + 1
            fail(mark, f"YAML syntax error: anchor &{anchor} is defined twice (first at line "
                 f"{first})")
        anchors[anchor] = node

    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.DocumentStartEvent) and root:
            fail(event.start_mark, "a file holds one YAML document; found a second (---)")
        if isinstance(event, yaml.AliasEvent):
            node = anchors.get(event.anchor)
            if node is None:
                fail(event.start_mark, f"YAML syntax error: alias *{event.anchor} names no "
                     "anchor finished before it (an alias cannot point into its own anchor)")
            if open_ and isinstance(open_[-1][0], yaml.SequenceNode):
                alias_lines[id(open_[-1][0]), len(open_[-1][0].value)] = \
                    event.start_mark.line + 1
            place(node)
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                   style=event.style)
            size[id(node)], height[id(node)] = 1, 0
            created += 1
            name(event.anchor, node, event.start_mark)
            place(node)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                fail(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
            kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) \
                else yaml.MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolver.resolve(kind, None, event.implicit)
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            created += 1
            open_.append([node, event.anchor, None])
        elif isinstance(event, yaml.CollectionEndEvent):
            node, anchor, _ = open_.pop()
            node.end_mark = event.end_mark
            children = node.value if isinstance(node, yaml.SequenceNode) else \
                [part for pair in node.value for part in pair]
            size[id(node)] = 1 + sum(size[id(child)] for child in children)
            height[id(node)] = 1 + max((height[id(child)] for child in children), default=0)
            if height[id(node)] > MAX_DEPTH:
                fail(node.start_mark, f"nested deeper than {MAX_DEPTH} levels (counting what "
                     "its aliases stand for)")
            if size[id(node)] > MAX_NODES:
                fail(node.start_mark, f"expands to more than {MAX_NODES:,} values (each alias "
                     "counted by the size of what it names): refused as an alias bomb")
            name(anchor, node, node.start_mark)
            place(node)
        if created > MAX_NODES:
            fail(event.start_mark, f"more than {MAX_NODES:,} values in one file")
    return (root[0] if root else None), alias_lines


def _collect_lines(root: yaml.Node, file: str, alias_lines: AliasLines | None = None) -> Origins:
    """The line of every key path, walking each node once: what an alias names is walked
    where its anchor is, and an error inside an alias's value points at the key or list item
    that uses the alias (so a file of shared anchors costs no more than its text).

    Refuses a key given twice in one mapping and an ``id`` given twice in one list, at the
    second one's line: otherwise the last would silently win.
    """
    origins: Origins = {}
    constructor = yaml.constructor.SafeConstructor()
    seen: set[int] = set()
    todo: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while todo:
        node, path = todo.pop()
        origins.setdefault(path, (file, node.start_mark.line + 1))
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, Path_]] = []
        if isinstance(node, yaml.MappingNode):
            keys: dict[Any, int] = {}
            merged: list[yaml.Node] = []
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if key_node.tag == MERGE_TAG:
                    merged.append(key_node)
                    continue
                if isinstance(key_node, yaml.ScalarNode):
                    key = constructor.construct_object(key_node)
                    if _hashable(key) and key in keys:
                        raise ScenarioError(
                            file, f"duplicate key {key_node.value!r} (first at line "
                            f"{keys[key]}); a key may appear once in a mapping", line=line,
                            path=".".join((*path, str(key_node.value))))
                    if _hashable(key):
                        keys[key] = line
                child = (*path, _key_text(key_node))
                origins[child] = (file, line)
                children.append((value_node, child))
            for key_node in merged:  # ``<<: *defaults``: its keys point at this line
                for key_text in _merged_keys(key_node, node):
                    origins.setdefault((*path, key_text), (file, key_node.start_mark.line + 1))
        elif isinstance(node, yaml.SequenceNode):
            ids: dict[str, int] = {}
            for index, item in enumerate(node.value):
                key = _item_key(item, index)
                line = (alias_lines or {}).get((id(node), index))
                if line is not None:  # ``- *entry``: the alias's line, not its anchor's
                    origins[(*path, key)] = (file, line)
                if _entry_id(item) is not None:
                    line = line or item.start_mark.line + 1
                    if key in ids:
                        raise ScenarioError(
                            file, f"duplicate id {key!r} (first at line {ids[key]}); an entry "
                            "may appear once in a list", line=line, path=".".join((*path, key)))
                    ids[key] = line
                children.append((item, (*path, key)))
        todo.extend(reversed(children))  # document order: an anchor before its aliases
    return origins


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _key_text(key_node: yaml.Node) -> str:
    return str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"


def _merged_keys(key_node: yaml.Node, mapping: yaml.MappingNode) -> list[str]:
    """Keys a ``<<`` merge brings into ``mapping`` (the mappings it names, one level)."""
    value = next(v for k, v in mapping.value if k is key_node)
    sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
    return [_key_text(k) for source in sources if isinstance(source, yaml.MappingNode)
            for k, _ in source.value if k.tag != MERGE_TAG]


def _entry_id(item: yaml.Node) -> str | None:
    if isinstance(item, yaml.MappingNode):
        for key_node, value_node in item.value:
            if key_node.value == "id" and isinstance(value_node, yaml.ScalarNode):
                return str(value_node.value)
    return None


def _item_key(item: yaml.Node, index: int) -> str:
    """A list entry's path part: its ``id`` if it has one, else its index."""
    entry_id = _entry_id(item)
    return str(index) if entry_id is None else entry_id


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


MAX_EXTENDS = 20
"""Longest chain of ``extends`` (the scenarios here use one or two levels)."""


def _resolve(file: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], Origins]:
    """The file's data with every ``extends`` ancestor merged beneath it.

    A parent that cannot be used is reported at the child's ``extends`` line, with the
    parent's own one-line error after it.
    """
    data, origins = _read_yaml(file)
    parent_name = data.get("extends")
    if parent_name is None:
        return data, origins
    line = origins[("extends",)][1]

    def fail(message: str) -> typing.NoReturn:
        raise ScenarioError(str(file), message, line=line, path="extends")

    if not isinstance(parent_name, str):
        fail("must be a file name")
    parent = beside_or_bundled(file, parent_name).resolve()
    if parent in chain or parent == file.resolve():
        cycle = " → ".join(p.name for p in (*chain, file.resolve(), parent))
        fail(f"cycle in extends: {cycle}")
    if len(chain) >= MAX_EXTENDS:
        fail(f"more than {MAX_EXTENDS} files in a chain of extends")
    if not parent.exists():
        fail(f"extends a file that does not exist: {parent_name}")
    try:
        base, base_origins = _resolve(parent, (*chain, file.resolve()))
    except ScenarioError as exc:
        fail(f"cannot read {parent_name!r}: {exc}")
    merged = deep_merge(base, data)
    merged["extends"] = parent_name
    merged_origins = {**base_origins, **origins}
    for path in base_origins:
        # a value the child sets without a line of its own (inside an alias it uses, or a
        # ``<<`` merge) comes from the child: its nearest line, not the parent's
        if path not in origins and _defines(data, path):
            merged_origins[path] = _line_of(path, origins, str(file))
    if "name" not in data:  # a name is not inherited: it defaults to this file's stem
        merged.pop("name", None)
        merged_origins.pop(("name",), None)
    return merged, merged_origins


def _defines(data: Any, path: Path_) -> bool:
    """Whether ``data`` (one file's) holds a value at ``path`` (list entries by id)."""
    node = data
    for part in path:
        if isinstance(node, dict):
            key = next((k for k in node if str(k) == part), _MISSING)
            if key is _MISSING:
                return False
            node = node[key]
        elif isinstance(node, list):
            entry = next((e for e in node if isinstance(e, dict) and str(e.get("id")) == part),
                         _MISSING)
            if entry is _MISSING and part.isdigit() and int(part) < len(node):
                entry = node[int(part)]
            if entry is _MISSING:
                return False
            node = entry
        else:
            return False
    return True


_MISSING = object()


# ---------------------------------------------------------------- names


def name_from_stem(stem: str, prefix: str = "s") -> str | None:
    """A file stem made an identifier: ``My-Scenario`` → ``my_scenario``,
    ``2025_whatif`` → ``s_2025_whatif`` (an id starts with a letter); ``None`` if the stem
    has no letter or digit. Accents are dropped (``café`` → ``cafe``), runs of other
    characters become one ``_``, and the result is cut to 40 characters."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_stem.lower()).strip("_")
    if not name:
        return None
    if name[0].isdigit():
        name = f"{prefix}_{name}"
    return name[:40].rstrip("_")


def default_name(file: Path, shown: str, what: str = "scenario", prefix: str = "s") -> str:
    """The name a file without a ``name:`` key gets: its stem, normalised."""
    name = name_from_stem(file.stem, prefix)
    if name is None:
        raise ScenarioError(shown, f"the file name {file.name!r} has no letter or digit to "
                            f"make the {what}'s name from; add a name: key", path="name")
    return name


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


IDENTIFIER_RULE = ("lower-case letters, digits and single underscores, starting with a letter, "
                   "at most 40 characters")


def _first_error(exc: ValidationError, data: dict, origins: Origins, file: str) -> ScenarioError:
    error = exc.errors()[0]
    loc = tuple(part for part in error["loc"] if part != "[key]")  # a dict key's own error
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
        text = _message(error)
        message = f"{text} (got {got!r})" if not isinstance(got, dict | list) else text
    return ScenarioError(shown, message, line=line, path=dotted)


def _message(error: Any) -> str:
    """Pydantic's message, said for people where it is about an id's pattern."""
    ctx = error.get("ctx") or {}
    if (error["type"] == "string_pattern_mismatch" and ctx.get("pattern") == IDENTIFIER_PATTERN
            or error["type"] == "string_too_long" and ctx.get("max_length") == 40):
        return f"expected an id: {IDENTIFIER_RULE}"
    return error["msg"].removeprefix("Value error, ")


EVENT_FIRM_KINDS: dict[str, tuple[str, ...]] = {
    "open_release": ("lab",), "close_release": ("lab",), "model_release": ("lab",),
    "enter_segment": ("lab", "app"), "exit": ("lab", "bigtech", "app"),
    "licence_start": ("bigtech",), "licence_end": ("bigtech",), "set": (),
}
"""Firm kinds each scheduled event applies to (what ``AIMarketModel._apply_event`` acts on:
releases are a lab's, licences a big tech's, entries a seller's; anything can exit)."""


def _check_references(scenario: Scenario, origins: Origins, file: str,
                      horizon: int | None = None) -> int:
    """Cross-entry rules pydantic cannot see: unique ids, known ids, shares that sum to 1,
    events that apply to their firm, dates inside the run.

    ``horizon``: months after the start that dated entries may reach (default: the
    scenario's months; longer when ``--months`` shortened a scenario whose later events
    then simply do not happen). Returns the last month of a dated entry that a shorter
    child scenario leaves out (0 if none), for the scenario's horizon.
    """

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
    _check_entrant(scenario, fail, segment_ids, all_firms, ids_of["lab"])
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
        if event.kind == "set":
            _check_set_event(scenario, event, lambda key, message, where=where: fail(
                (*where, key), message))
            continue
        if event.firm is None:
            fail(where, f"{event.kind} events need a firm (the firm it happens to)")
        check((*where, "firm"), event.firm, all_firms, "firm id")
        check((*where, "segment"), event.segment, segment_ids, "segment id")
        check((*where, "partner"), event.partner, ids_of["lab"], "lab id")
        if event.kind == "enter_segment" and event.segment is None:
            fail(where, "an enter_segment event needs a segment")
        if event.kind == "model_release" and event.quality is None:
            fail(where, "a model_release event needs the model's quality")
        if event.kind == "licence_start" and event.partner is None:
            fail(where, "a licence_start event needs a partner (the licensor lab)")
        kinds = EVENT_FIRM_KINDS[event.kind]
        firm_kind = next(f.kind for f in scenario.firms if f.id == event.firm)
        if firm_kind not in kinds:
            article = "an" if firm_kind == "app" else "a"
            fail((*where, "kind"), f"{event.kind} applies to {' and '.join(kinds)} firms only, "
                 f"and {event.firm} is {article} {firm_kind}")
        offerings = next(f.offerings for f in scenario.firms if f.id == event.firm)
        if event.kind == "enter_segment" and firm_kind == "app" and \
                event.segment not in offerings:
            fail((*where, "segment"), f"an app builder serves only the segment of its one "
                 f"offering; {event.firm} cannot enter {event.segment}")
    months_from = origins[("months",)][0] if ("months",) in origins else None

    def shortened(path: Path_) -> bool:
        """The file loaded sets the run's end and this dated entry comes from a file it
        extends: a scenario that shortens its parent leaves the parent's later entries to
        simply not happen."""
        return months_from == file and _line_of(path, origins, file)[0] != file

    excused = _check_dates(scenario, fail, scenario.months if horizon is None else horizon,
                           shortened)
    for segment in scenario.segments:
        starting = sum(f.offerings[segment.id].initial_users for f in scenario.firms
                       if segment.id in f.offerings)
        if starting > segment.potential_users:
            fail(("segments", segment.id, "potential_users"),
                 f"initial users of all firms ({starting:.3g}) exceed potential users "
                 f"({segment.potential_users:.3g})")
    return excused


SETTABLE_SECTIONS = ("choice", "first_mover", "commoditization", "technology", "pricing",
                     "open_source", "funding", "trust", "entry", "cohorts", "segments",
                     "firms")
"""Sections whose parameters a ``set`` event may change: the ones the model reads while it
runs. Starting values and the market's structure (firms, segments, dates, mechanisms) are
fixed at the start."""
FIXED_AT_START = {
    ("open_source", "segments"): "where the community offers models is fixed at the start",
    ("open_source", "initial_contributors"): "a starting value",
    ("funding", "investments"): "investments are dated events of their own",
    ("entry", "potential_labs"): "prospective entrants are created at the start",
    ("entry", "lab"): "prospective entrants are created at the start",
    ("entry", "potential_apps"): "prospective entrants are created at the start",
    ("entry", "app"): "prospective entrants are created at the start",
    ("cohorts", "*", "id"): "an id",
    ("cohorts", "*", "share"): "cohort shares split the population at the start",
    ("segments", "*", "id"): "an id",
    ("segments", "*", "label"): "a label",
    ("segments", "*", "modality"): "a segment's modality is fixed at the start",
    ("segments", "*", "potential_users"): "a starting value",
    ("segments", "*", "first_mover"): "a starting value",
    ("segments", "*", "cost_to_serve_usd_per_user_month"): "a starting value (the cost then "
    "falls at commoditization.inference_cost_decline_per_year, which a set event may change)",
}
"""Keys of the settable sections that are not parameters read while the model runs (``*``:
any entry of a list), with the reason a set event cannot change them."""
STRATEGY_KEYS = {"bigtech": ("invest_in_champion", "license_stopgap", "licence_gap_points",
                             "licence_fee_usd_per_user_month"),
                 "lab": ("training_spend_musd_month", "post_training_spend_musd_month",
                         "safety_spend_musd_month"),
                 "app": ("post_training_spend_musd_month", "routes_across_suppliers")}
"""A firm's keys a set event may change: its strategy (a big tech's stopgap licences, C22, and
follow-on money, C24; a lab's spending plans, such as a new training cluster; an app's
post-training and whether it routes across suppliers), which the firm
reads again when it changes. Everything else about a firm is its starting state."""


def _check_entrant(scenario: Scenario, fail: Any, segment_ids: list[str],
                   firm_ids: list[str], lab_ids: list[str]) -> None:
    """``entry.lab`` (``entry.app``) is an independent lab (app builder) with no users and no
    dates of its own (the entry decision founds it and picks its first segment), whose copies'
    ids are free; an app entrant starts from a supplier lab."""
    entry = scenario.entry
    for kind, template, count, specs in (
            ("lab", entry.lab, "potential_labs", scenario.entrant_specs()),
            ("app", entry.app, "potential_apps", scenario.entrant_app_specs())):
        where = ("entry", kind)
        if template is None:
            if getattr(entry, count) > 0:
                fail(("entry", count), f"prospective entrants need entry.{kind}, the {kind} "
                     "each of them is")
            continue
        if template.kind != kind:
            article = "an" if kind == "app" else "a"
            fail((*where, "kind"), f"entry.{kind} is {article} {kind}, not {template.kind!r}")
        if template.founded is not None:
            fail((*where, "founded"), "an entrant is founded by the entry decision; leave "
                 "founded empty")
        if template.owner is not None:
            fail((*where, "owner"), "an entrant is independent; leave owner empty")
        if kind == "app" and template.supplier not in lab_ids:
            fail((*where, "supplier"), f"unknown lab id {template.supplier!r}"
                 f"{_suggest(str(template.supplier), lab_ids)}")
        if not template.offerings:
            fail((*where, "offerings"), "an entrant needs the segments it may serve")
        for segment_id, offering in template.offerings.items():
            path = (*where, "offerings", segment_id)
            if segment_id not in segment_ids:
                fail(path, f"unknown segment id {segment_id!r}"
                     f"{_suggest(segment_id, segment_ids)}")
            if offering.initial_users > 0:
                fail((*path, "initial_users"), "an entrant has no users before it is founded")
            if offering.entry is not None:
                fail((*path, "entry"), "an entrant enters when it is founded; leave entry "
                     "empty")
        for spec in specs:
            if spec.id in firm_ids:
                fail(("entry", count), f"entrant id {spec.id!r} is taken by a firm of the "
                     "scenario")


def _check_set_event(scenario: Scenario, event: Any, fail: Any) -> None:
    """A ``set`` event names a parameter the model reads while it runs, and its value is one
    that parameter accepts (validated as ``--set`` would be); ``fail(key, message)``."""
    if event.path is None or event.value is None:
        fail("path" if event.path is None else "value",
             "a set event needs a path (the parameter) and a value")
    parts = tuple(event.path.split("."))
    if parts[0] not in SETTABLE_SECTIONS:
        fail("path", f"{event.path}: a set event changes parameters of "
             f"{', '.join(SETTABLE_SECTIONS)}; {parts[0]!r} is fixed at the start")
    if parts[0] == "firms":
        firm = next((f for f in scenario.firms if len(parts) > 1 and f.id == parts[1]), None)
        keys = STRATEGY_KEYS.get(firm.kind, ()) if firm is not None else ()
        if firm is not None and (len(parts) != 3 or parts[2] not in keys):
            allowed = "; ".join(f"a {kind}'s {', '.join(names)}"
                                for kind, names in STRATEGY_KEYS.items())
            fail("path", f"{event.path} cannot change during a run: of a firm, only its "
                 f"strategy can ({allowed})")
    for fixed, reason in FIXED_AT_START.items():
        if len(parts) >= len(fixed) and all(f in ("*", p) for f, p in zip(fixed, parts)):
            fail("path", f"{event.path} cannot change during a run: {reason}")
    data = scenario.model_dump(mode="python")
    try:
        _apply_override(data, event.path, event.value, "")
        Scenario.model_validate(data)
    except ScenarioError as exc:
        fail("path", f"{exc.path}: {exc.message}")
    except ValidationError as exc:
        error = _first_error(exc, data, {}, "")
        fail("path" if error.message.startswith("unknown key") else "value",
             f"{error.path}: {error.message}")


def _check_dates(scenario: Scenario, fail: Any, horizon: int,
                 shortened: Any = lambda path: False) -> int:
    """Every dated entry falls between the start and the end of the run, or it would be
    moved to month 0 (before) or never happen (after) without a word; an entry after the end
    is fine where ``shortened(path)``: the end was set later, by a scenario extending it.
    Returns the last month of such an entry (0 if none)."""
    excused = 0
    end = month_label(scenario.start, horizon)
    dated: list[tuple[Path_, str | None, str]] = []
    for event in scenario.events:
        dated.append((("events", event.id, "date"), event.date, "event"))
    for deal in scenario.funding.investments:
        dated.append((("funding", "investments", deal.id, "date"), deal.date, "investment"))
    for firm in scenario.firms:
        dated.append((("firms", firm.id, "founded"), firm.founded, "founding"))
        for segment_id, offering in firm.offerings.items():
            dated.append((("firms", firm.id, "offerings", segment_id, "entry"), offering.entry,
                          "entry"))
    for path, date, what in dated:
        if date is None:
            continue
        if month_index(scenario.start, date) < 0:
            hint = "; leave founded empty for a firm that exists at the start" \
                if what == "founding" else ""
            fail(path, f"{what} date {date} is before the start ({scenario.start}){hint}")
        if month_index(scenario.start, date) > horizon and shortened(path):
            excused = max(excused, month_index(scenario.start, date))
        elif month_index(scenario.start, date) > horizon:
            fail(path, f"{what} date {date} is after the end ({end}: start {scenario.start} + "
                 f"{horizon} months)")
    return excused


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


def beside_or_bundled(file: Path, name: str) -> Path:
    """The scenario ``name`` refers to from ``file`` (its ``extends:``, an experiment's
    ``scenario:``): the file of that name beside it, else the bundled scenario of that name
    (so a user's own file can say ``extends: baseline``), else the path beside it."""
    beside = file.parent / name
    if not beside.exists() and library.is_name(name):
        return library.bundled_file("scenarios", name) or beside
    return beside


def locate(kind: str, source: str | Path) -> Path:
    """The file a path or a name (``baseline``) stands for (:func:`moatsim.library.find`);
    a name that matches no file is a :class:`ScenarioError` listing the bundled names."""
    file = library.find(kind, source)
    if not file.exists() and library.is_name(source):
        raise ScenarioError(str(source), "file not found" + library.not_found_hint(kind, source))
    return file


def load_scenario(
    source: str | Path | Scenario,
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """A validated :class:`Scenario` from a file, a scenario's name (``"baseline"``: see
    :func:`moatsim.library.find`) or a :class:`Scenario`, with dotted-path overrides.

    Raises :class:`ScenarioError` with a one-line message on any bad input.
    """
    if isinstance(source, Scenario):
        data, origins, shown = source.model_dump(mode="python"), {}, f"<scenario {source.name}>"
    else:
        file = locate("scenarios", source)
        shown = str(source) if file == Path(source) else str(file)
        data, origins = _resolve(file, ())
        if "name" not in data:
            data["name"] = default_name(file, shown)
            origins[("name",)] = (f"the file name {file.name!r}", None)
    written_months = data.get("months")  # before --months or --set shorten the run
    if isinstance(source, Scenario) and source._horizon is not None:
        written_months = source._horizon  # what its file said
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
    horizon = scenario.months
    if isinstance(written_months, int) and not isinstance(written_months, bool):
        horizon = max(horizon, written_months)
    elif "months" in (overrides or {}):
        horizon = max(horizon, Scenario.model_fields["months"].default)
    horizon = max(horizon, _check_references(scenario, origins, shown, horizon))
    scenario._horizon = horizon if horizon != scenario.months else None
    return scenario


def with_set_event(scenario: Scenario, path: str, value: Any) -> Scenario:
    """``scenario`` after one of its own set events (``path`` takes ``value``). The change was
    checked with the whole scenario when it was loaded (:func:`_check_set_event`), so only the
    schema's validation runs again: a run applies its set events in milliseconds."""
    data = scenario.model_dump(mode="python")
    _apply_override(data, path, value, f"<scenario {scenario.name}>")
    changed = Scenario.model_validate(data)
    changed._horizon = scenario._horizon
    return changed


def scenario_with_flat(scenario: Scenario | str | Path, **flat: Any) -> Scenario:
    """A scenario with flat keyword overrides (``first_mover__switching_cost_utils=3``)."""
    return load_scenario(scenario, {flat_to_path(k): v for k, v in flat.items()})
