"""How `extends` and `variants` combine files: mappings key by key, named lists item by item.

A list whose items are mappings with a `name` (channels, teams, stages, ...) merges by name: an
item of the overlay changes only the fields it gives, a new name is added at the end. Two plain
YAML keys inside items change that: `replace: true` in the list's first item makes the list
replace the base's list whole, and `{name: x, drop: true}` removes item `x`. Every other list
(response curve points, cohorts) replaces the base's list, as a scalar does.

Locations follow the values: a merged value still points at the file and line that typed it.
"""

from __future__ import annotations

from typing import Any

from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.messages import show
from funnelsim.scenario.yamlsource import FieldPath, Loc, Source, format_path

__all__ = ["DROP", "REPLACE", "merge", "normalise"]

REPLACE = "replace"
DROP = "drop"
_ABSENT = object()
_Locs = dict[FieldPath, Loc]


def merge(base: Source, over: Source) -> Source:
    """`over` merged onto `base`; raises ScenarioError for misused `replace` or `drop`."""
    merger = _Merger(base.locs, over.locs)
    data = merger.value(base.data, over.data, (), (), ())
    root = base.locs.get((), over.locs.get(()))
    if root is not None:
        merger.out[()] = root
    if merger.problems:
        raise ScenarioError(merger.problems)
    return Source(data, merger.out)


def normalise(source: Source) -> Source:
    """A file merged onto nothing: `replace` keys are removed, a `drop` finds nothing to drop."""
    return merge(Source({}, {}), source)


def _is_named(items: Any) -> bool:
    """A list to merge by name: mappings, at least one naming itself or using replace/drop."""
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(i, dict) and not isinstance(i.get("name"), list | dict) for i in items)
        and any("name" in i or REPLACE in i or DROP in i for i in items)
    )


class _Merger:
    def __init__(self, base_locs: _Locs, over_locs: _Locs) -> None:
        self.base_locs = base_locs
        self.over_locs = over_locs
        self.out: _Locs = {}
        self.problems: list[Problem] = []

    def problem(self, opath: FieldPath, message: str) -> None:
        loc = self._where(opath)
        self.problems.append(Problem(loc.file, loc.line, format_path(opath), message))

    def _where(self, path: FieldPath) -> Loc:
        for n in range(len(path), -1, -1):
            if path[:n] in self.over_locs:
                return self.over_locs[path[:n]]
        return Loc("<scenario>", None)

    def copy(self, locs: _Locs, src: FieldPath, dst: FieldPath) -> None:
        n = len(src)
        for p, loc in locs.items():
            if p[:n] == src and (n or p):
                self.out[dst + p[n:]] = loc

    def value(self, base: Any, over: Any, bpath: FieldPath, opath: FieldPath, rpath: FieldPath) -> Any:
        """Merge one value; `bpath`/`opath`/`rpath` are its paths in base, overlay and result."""
        if rpath[:1] == ("variants",) and len(rpath) > 2:
            # Inside a variant body: both sides are patches, applied by name to the base later.
            return self._plain(base, over, bpath, opath, rpath)
        if _is_named(over) and (base is _ABSENT or _is_named(base) or base == []):
            return self._named(base if isinstance(base, list) else [], over, bpath, opath, rpath)
        if isinstance(over, dict) and (base is _ABSENT or isinstance(base, dict)):
            return self._mapping({} if base is _ABSENT else base, over, bpath, opath, rpath)
        self.copy(self.over_locs, opath, rpath)
        return over

    def _plain(self, base: Any, over: Any, bpath: FieldPath, opath: FieldPath, rpath: FieldPath) -> Any:
        if isinstance(base, dict) and isinstance(over, dict):
            return self._mapping(base, over, bpath, opath, rpath)
        self.copy(self.over_locs, opath, rpath)
        return over

    def _mapping(self, base: dict, over: dict, bpath: FieldPath, opath: FieldPath, rpath: FieldPath) -> dict:
        if rpath:
            loc = self.over_locs.get(opath, self.base_locs.get(bpath))
            if loc is not None:
                self.out[rpath] = loc
        result = {}
        for key, value in base.items():
            if key not in over:
                result[key] = value
                self.copy(self.base_locs, (*bpath, key), (*rpath, key))
        for key, value in over.items():
            result[key] = self.value(base.get(key, _ABSENT), value, (*bpath, key), (*opath, key), (*rpath, key))
        return result

    def _named(self, base: list, over: list, bpath: FieldPath, opath: FieldPath, rpath: FieldPath) -> list:
        if not self._check(over, opath, bool(base)):
            self.copy(self.over_locs, opath, rpath)
            return over
        self.out[rpath] = self.over_locs.get(opath, self.base_locs.get(bpath, Loc("<scenario>", None)))
        if over[0].get(REPLACE) is True:
            return self._replaced(over, opath, rpath)
        result: list[Any] = []
        # per result item: the overlay item merged into it (None: untouched), its base and overlay paths
        sources: list[tuple[Any, FieldPath | None, FieldPath | None]] = []
        index = {item.get("name"): i for i, item in enumerate(base)}
        for i, item in enumerate(base):
            result.append(item)
            sources.append((None, (*bpath, i), None))
        for j, item in enumerate(over):
            item = {k: v for k, v in item.items() if k != REPLACE}
            name = item.get("name", _ABSENT)
            if item.get(DROP) is True:
                if name in index and result[index[name]] is not None:
                    result[index[name]] = None
                else:
                    have = ", ".join(str(i.get("name")) for i in base) or "none"
                    self.problem((*opath, j, DROP), f"no item named {show(name)} to drop (the base has: {have})")
                continue
            if name in index:
                k = index[name]
                if result[k] is None:
                    self.problem((*opath, j, "name"), f"{show(name)} is dropped earlier in this list")
                    continue
                sources[k] = (item, (*bpath, k), (*opath, j))
                result[k] = item
            else:  # a name given twice with no base to merge onto is left to validation to report
                result.append(item)
                sources.append((item, None, (*opath, j)))
        merged = []
        for (item, src_b, src_o), value in zip(sources, result, strict=True):
            if value is None:
                continue
            dst = (*rpath, len(merged))
            if item is None:  # untouched base item
                self.copy(self.base_locs, src_b, dst)
                merged.append(value)
            elif src_b is None:  # new item
                merged.append(self.value(_ABSENT, value, (), src_o, dst))
            else:
                merged.append(self.value(base[src_b[-1]], value, src_b, src_o, dst))
        return merged

    def _replaced(self, over: list, opath: FieldPath, rpath: FieldPath) -> list:
        first = {k: v for k, v in over[0].items() if k != REPLACE}
        items = ([first] if first else []) + over[1:]
        start = 0 if first else 1
        result = []
        for j, item in enumerate(items):
            result.append(self.value(_ABSENT, item, (), (*opath, j + start), (*rpath, j)))
        return result

    def _check(self, over: list, opath: FieldPath, has_base: bool) -> bool:
        """Is `over` a well-formed named list? Records a problem for each misuse.

        A name given twice is ambiguous only when merging onto a base; alone, validation says it.
        """
        ok = True
        replace = over[0].get(REPLACE, False)
        if not isinstance(replace, bool):
            self.problem((*opath, 0, REPLACE), f"expected true (replace the whole list) or false, got {show(replace)}")
            ok = False
        seen: dict[Any, int] = {}
        for j, item in enumerate(over):
            here = (*opath, j)
            if j and REPLACE in item:
                self.problem((*here, REPLACE), "'replace: true' goes in the first item of the list, not a later one")
                ok = False
            if DROP in item:
                drop = item[DROP]
                extra = sorted(str(k) for k in item if k not in ("name", DROP))
                if drop is not True:
                    self.problem((*here, DROP), f"expected true (remove the item of this name), got {show(drop)}")
                    ok = False
                elif "name" not in item:
                    self.problem((*here, DROP), "a dropped item needs the 'name' of the item to remove")
                    ok = False
                elif replace is True:
                    self.problem((*here, DROP), "a list with 'replace: true' is given whole; leave the item out")
                    ok = False
                elif extra:
                    self.problem(here, f"a dropped item takes only 'name' and 'drop' (got also {', '.join(extra)})")
                    ok = False
            if replace is True:
                continue
            if "name" not in item:
                if not has_base or (j == 0 and REPLACE in item and item.keys() == {REPLACE}):
                    continue  # alone, validation says a name is required
                msg = (
                    "this list merges by name, so every item needs a 'name' "
                    "(or put 'replace: true' in the first item to give the list whole)"
                )
                self.problem(here, msg)
                ok = False
                continue
            name = item["name"]
            if name in seen and has_base:
                self.problem((*here, "name"), f"{show(name)} appears twice in this list (item {seen[name]} too)")
                ok = False
            seen[name] = j
        if replace is False and REPLACE in over[0] and over[0].keys() <= {REPLACE}:
            self.problem((*opath, 0), "an item holding only 'replace: false' means nothing; remove it")
            ok = False
        return ok
