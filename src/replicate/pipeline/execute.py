"""Run chapters: jupytext MyST source -> papermill -> executed notebook, figures and claims ledger.

A chapter is ``chapters/<id>.md``; its first code cell is tagged ``parameters``.  Parameters
given on the command line are checked against that cell before anything runs: an unknown name
is an error listing the valid ones, a value of the wrong type is an error naming the parameter.
Execution happens in a scratch directory that replaces the output directory only on success,
so a failed run leaves nothing half-written.
"""
from __future__ import annotations

import ast
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .profiles import check_profile

CHAPTERS_DIR = "chapters"
EXECUTED_DIR = Path("book") / "executed"


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
        except (ValueError, SyntaxError):
            out[name.strip()] = raw
    return out


def _type_ok(default: Any, value: Any) -> tuple[bool, Any]:
    if default is None or default is ...:
        return True, value
    if isinstance(default, bool):
        return isinstance(value, bool), value
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool), value
    if isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple)), list(value) if isinstance(value, tuple) else value
    return isinstance(value, type(default)), value


def validate_parameters(declared: dict[str, Any], given: dict[str, Any], chapter: str) -> dict[str, Any]:
    """Check names and types of ``given`` against the chapter's parameters cell."""
    checked: dict[str, Any] = {}
    for name, value in given.items():
        if name not in declared:
            raise ValueError(f"chapter {chapter!r} has no parameter {name!r}; "
                             f"valid parameters: {', '.join(declared)}")
        ok, value = _type_ok(declared[name], value)
        if not ok:
            raise ValueError(f"parameter {name!r} of chapter {chapter!r} expects "
                             f"{type(declared[name]).__name__}, got {value!r}")
        checked[name] = value
    if "profile" in checked:
        check_profile(checked["profile"])
    return checked


@dataclass
class Executed:
    chapter: str
    notebook: Path
    seconds: float


def run_chapter(chapter: str, out_dir: Path, *, root: Path, parameters: dict[str, Any] | None = None,
                log_output: bool = False) -> Executed:
    """Execute one chapter with papermill into ``out_dir`` (notebook, ``figures/``, ledger).

    ``out_dir`` receives ``<name>.ipynb`` and whatever the chapter writes to its working
    directory.  The run happens in a scratch directory next to ``out_dir`` that is moved into
    place only when the chapter succeeded.
    """
    import nbformat
    import papermill

    nb = load_notebook(chapter_source(chapter, root))
    params = validate_parameters(chapter_parameters(nb), parameters or {}, chapter)
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    name = Path(chapter).name
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir.parent))
    start = time.perf_counter()
    try:
        src = scratch / f"{name}.source.ipynb"
        nbformat.write(nb, src)
        papermill.execute_notebook(str(src), str(scratch / f"{name}.ipynb"), parameters=params,
                                   kernel_name="python3", cwd=str(scratch), progress_bar=False,
                                   log_output=log_output)
        src.unlink()
    except BaseException as exc:
        failed = Path(tempfile.gettempdir()) / f"replicate-failed-{name}"
        shutil.rmtree(failed, ignore_errors=True)
        shutil.move(str(scratch), failed)
        where = ""
        if hasattr(exc, "ename"):  # papermill.PapermillExecutionError: the failing cell's exception
            first = str(exc.evalue).strip().splitlines()
            where = f" in cell {exc.exec_count}: {exc.ename}: {first[0] if first else ''}"
        raise RuntimeError(f"chapter {chapter!r} failed{where}; the partial run is in {failed}") from None
    _replace_dir(scratch, out_dir)
    return Executed(chapter, out_dir / f"{name}.ipynb", time.perf_counter() - start)


def _replace_dir(new: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old)
    else:
        new.rename(target)


def executed_dir(chapter: str, root: Path) -> Path:
    """Where ``replicate execute`` puts a chapter inside the book: ``book/executed/<id>/``."""
    return root / EXECUTED_DIR / chapter
