"""Chapter sources: where they live, their ``parameters`` cell, and checks of the parameters given
on the command line.

A chapter is ``chapters/<id>.md``; its first code cell is tagged ``parameters``.  Parameters
given on the command line are checked against that cell before anything runs: an unknown name
is an error listing the valid ones, a value of the wrong type is an error naming the parameter
(for a parameter whose default is ``None`` the type comes from the chapter's
``default(name, profile, quick=..., paper=...)`` call).
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .profiles import check_profile

CHAPTERS_DIR = "chapters"

def project_root(start: Path | None = None) -> Path:
    """The checkout holding ``_toc.yml`` and ``chapters/``: ``$REPLICATE_ROOT``, else the first
    parent of the working directory that has both, else the source tree of this package."""
    env = os.environ.get("REPLICATE_ROOT")
    candidates = [Path(env)] if env else []
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents, *Path(__file__).resolve().parents]
    for c in candidates:
        if (c / "_toc.yml").is_file() and (c / CHAPTERS_DIR).is_dir():
            return c
    raise RuntimeError("cannot find the replicate checkout (a folder with _toc.yml and chapters/); "
                       "run inside it or set REPLICATE_ROOT")


def chapter_source(chapter: str, root: Path) -> Path:
    path = root / CHAPTERS_DIR / f"{chapter}.md"
    if not path.is_file():
        raise ValueError(f"chapter {chapter!r} has no source file {path}")
    return path


def load_notebook(source: Path):
    """The chapter as an ``nbformat`` notebook (outputs empty), via jupytext."""
    import jupytext

    return jupytext.read(source)


def chapter_parameters(nb) -> dict[str, Any]:
    """Names and default values assigned in the cell tagged ``parameters``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            out: dict[str, Any] = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        if isinstance(t, ast.Name):
                            try:
                                out[t.id] = ast.literal_eval(node.value)
                            except ValueError:
                                out[t.id] = ...  # an expression: accept any value
            return out
    raise ValueError("chapter has no code cell tagged 'parameters'")


# --------------------------------------------------------------------------- parameter types

class _Raw(str):
    """A command-line value that is not a Python literal, kept as a string."""


@dataclass(frozen=True)
class Expected:
    """What a parameter whose default is None accepts, from its profile defaults."""
    kinds: tuple[str, ...]  # "int", "float", "str", "bool", "sequence"
    items: str | None = None  # "int" / "number" for sequences of known literal items
    source: str = ""

    def describe(self) -> str:
        names = {"int": "an int", "float": "a number", "str": "a string", "bool": "a bool",
                 "sequence": "a list or tuple"}
        text = " or ".join(names[k] for k in self.kinds)
        if self.items:
            text += f" of {'ints' if self.items == 'int' else 'numbers'}"
        return text + " (or None for the profile's default)"


def _node_kind(node: ast.AST) -> tuple[str | None, str | None]:
    """(kind, item kind) of a ``quick=``/``paper=`` expression."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        value = ...
    if value is not ...:
        if isinstance(value, bool):
            return "bool", None
        if isinstance(value, int):
            return "int", None
        if isinstance(value, float):
            return "float", None
        if isinstance(value, str):
            return "str", None
        if isinstance(value, (list, tuple)):
            if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                return "sequence", "int"
            if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                return "sequence", "number"
            return "sequence", None
        return None, None
    if isinstance(node, (ast.List, ast.Tuple, ast.ListComp)):
        return "sequence", None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("tuple", "list", "sorted"):
        return "sequence", None
    return None, None


def profile_types(nb, declared: dict[str, Any]) -> dict[str, Expected]:
    """For parameters declared ``= None``: the type of their ``default(name, profile, quick=,
    paper=)`` values anywhere in the chapter."""
    out: dict[str, Expected] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name)):
                continue
            fname = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            name = node.args[0].id
            if fname != "default" or declared.get(name, 0) is not None or name in out:
                continue
            kinds, items = [], []
            for kw in node.keywords:
                if kw.arg in ("quick", "paper"):
                    k, it = _node_kind(kw.value)
                    if k is None:
                        kinds = []
                        break
                    kinds.append(k)
                    items.append(it)
            if not kinds:
                continue
            kset = set(kinds)
            if kset <= {"int", "float"}:
                kinds_t = ("float",) if "float" in kset else ("int",)
            elif len(kset) == 1:
                kinds_t = (kinds[0],)
            else:
                continue
            item = None
            if kinds_t == ("sequence",) and all(items):
                item = "int" if set(items) == {"int"} else "number"
            out[name] = Expected(kinds_t, item, ast.unparse(node))
    return out


def parse_assignments(pairs: list[str] | None) -> dict[str, Any]:
    """``["n_traj=64", "profile=paper"]`` -> ``{"n_traj": 64, "profile": "paper"}``.
    Values are Python literals; anything else is taken as a string."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"parameters are given as name=value, got {pair!r}")
        try:
            out[name.strip()] = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            out[name.strip()] = _Raw(raw)
    return out


_LITERALS = (int, float, str, list, tuple, bool, type(None))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_expected(exp: Expected, value: Any) -> tuple[bool, Any]:
    if value is None:
        return True, None
    for kind in exp.kinds:
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if kind == "float" and _is_number(value):
            return True, float(value)
        if kind == "bool" and isinstance(value, bool):
            return True, value
        if kind == "str" and isinstance(value, str):
            return True, str(value)
        if kind == "sequence" and isinstance(value, (list, tuple)):
            if exp.items == "int" and not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                return False, value
            if exp.items == "number" and not all(_is_number(v) for v in value):
                return False, value
            return True, value
    return False, value


def _type_ok(default: Any, value: Any) -> tuple[bool, Any]:
    if default is None or default is ...:
        # no type known: any plain Python literal, but not an unquoted word
        return isinstance(value, _LITERALS) and not isinstance(value, _Raw), value
    if isinstance(default, bool):
        return isinstance(value, bool), value
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool), value
    if isinstance(default, float):
        ok = _is_number(value)
        return ok, float(value) if ok else value
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple)), list(value) if isinstance(value, tuple) else value
    if isinstance(default, str):
        return isinstance(value, str), str(value) if isinstance(value, str) else value
    return isinstance(value, type(default)), value


def validate_parameters(declared: dict[str, Any], given: dict[str, Any], chapter: str,
                        expected: dict[str, Expected] | None = None) -> dict[str, Any]:
    """Check names and types of ``given`` against the chapter's parameters cell (and, for
    parameters declared ``None``, against ``expected`` from :func:`profile_types`)."""
    checked: dict[str, Any] = {}
    for name, value in given.items():
        if name not in declared:
            raise ValueError(f"chapter {chapter!r} has no parameter {name!r}; "
                             f"valid parameters: {', '.join(declared)}")
        exp = (expected or {}).get(name) if declared[name] is None else None
        if exp is not None:
            ok, value = _check_expected(exp, value)
            want = exp.describe()
        else:
            ok, value = _type_ok(declared[name], value)
            d = declared[name]
            want = ("a Python literal (number, 'quoted string', list, tuple, True/False, None)"
                    if d is None or d is ... else type(d).__name__)
        if not ok:
            raise ValueError(f"parameter {name!r} of chapter {chapter!r} expects {want}, got "
                             f"{str(value) if isinstance(value, _Raw) else repr(value)}")
        checked[name] = str(value) if isinstance(value, _Raw) else value
    if "profile" in checked:
        check_profile(checked["profile"])
    return checked


def check_chapter_parameters(chapter: str, root: Path, given: dict[str, Any]) -> dict[str, Any]:
    nb = load_notebook(chapter_source(chapter, root))
    declared = chapter_parameters(nb)
    return validate_parameters(declared, given, chapter, profile_types(nb, declared))
