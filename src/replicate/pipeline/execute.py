"""Run chapters: jupytext MyST source -> papermill -> executed notebook, figures and claims ledger.

A chapter is ``chapters/<id>.md``; its first code cell is tagged ``parameters``.  Parameters
given on the command line are checked against that cell before anything runs: an unknown name
is an error listing the valid ones, a value of the wrong type is an error naming the parameter
(for a parameter whose default is ``None`` the type comes from the chapter's
``default(name, profile, quick=..., paper=...)`` call).

Nothing is ever lost in the output folder:

* the output path is checked before the notebook starts (not a file, not ``/``, writable);
* a folder that is not empty must be one this tool wrote: it holds the marker
  ``.replicate-output.json`` listing the files of that run, and any other file in it is an
  error (move it or pick another folder);
* the run happens in a scratch folder next to the output folder that replaces it only on
  success; a failed run is moved to its own fresh ``/tmp/replicate-failed-<chapter>-*`` folder.

Every run writes ``run.json`` next to the notebook: chapter, profile, the parameter overrides,
the seed, the executor and cache, the replicate version, wall time, start and end times.

The kernel's connection file goes to a private folder that is removed at the end, also when the
run is stopped with Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import ast
import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .profiles import check_profile

CHAPTERS_DIR = "chapters"
EXECUTED_DIR = Path("book") / "executed"
MARKER = ".replicate-output.json"
RUN_JSON = "run.json"
_KERNEL_DIR_PREFIX = "replicate-kernel-"
# tqdm.auto in a kernel without ipywidgets warns at import; bars never belong in a page
_KERNEL_WARNINGS = "ignore:IProgress not found"


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


# --------------------------------------------------------------------------- the output folder

def _read_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() or p.is_symlink())


def check_output(out_dir: Path | str, *, owned: bool = False) -> Path:
    """The absolute output folder, after checking that a run can write there without losing a
    file (``owned``: a folder inside the book, where a folder without marker is a build product
    of an older version of this tool). Raises ValueError with one line otherwise."""
    out = Path(os.path.abspath(Path(out_dir).expanduser()))
    if out.parent == out:
        raise ValueError(f"output {out} is the filesystem root; give a folder for this run")
    if out.exists() and not out.is_dir():
        raise ValueError(f"output {out} is an existing file, not a folder; give another path")
    if out.is_dir():
        present = _files(out)
        marker = _read_marker(out)
        if present and marker is None and not owned:
            raise ValueError(f"output folder {out} is not empty and was not written by replicate "
                             f"(no {MARKER}); give a new or empty folder")
        if marker is not None:
            foreign = [f for f in present if f not in set(marker["files"]) | {MARKER}]
            if foreign:
                more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
                raise ValueError(f"output folder {out} holds files that are not from the run that "
                                 f"wrote it ({', '.join(foreign[:3])}{more}); move them or give "
                                 "another folder")
    ancestor = next(p for p in (out, *out.parents) if p.exists())
    if not ancestor.is_dir():
        raise ValueError(f"output {out}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ValueError(f"output {out}: no permission to write in {ancestor}")
    return out


def _make_scratch(out: Path, name: str) -> Path:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        scratch.chmod(0o777 & ~umask)  # mkdtemp's 0700 is for secrets; an output folder is not
        return scratch
    except OSError as exc:
        raise ValueError(f"output {out}: cannot create a folder in {out.parent} "
                         f"({exc.strerror or exc})") from None


def _replace_dir(new: Path, target: Path) -> None:
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old)
    else:
        new.rename(target)


# --------------------------------------------------------------------------- the kernel's surroundings

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_kernel_dirs(tmp: Path) -> None:
    """Private folders of runs that were killed with SIGKILL (nothing could clean up)."""
    for d in tmp.glob(f"{_KERNEL_DIR_PREFIX}*"):
        try:
            pid = int(d.name[len(_KERNEL_DIR_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that every ``finally`` runs."""


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _environ(values: dict[str, str | None]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Relay(threading.Thread):
    """Copies what the kernel writes to a file (sweep progress bars) to this terminal."""

    def __init__(self, path: Path, stream):
        super().__init__(daemon=True, name="replicate-progress")
        self.path, self.stream, self.stop = path, stream, threading.Event()
        self.wrote = False

    def _pump(self, f) -> None:
        chunk = f.read()
        if chunk:
            self.stream.write(chunk)
            self.stream.flush()
            self.wrote = True

    def run(self) -> None:
        with open(self.path, "a+", encoding="utf-8", errors="replace", newline="") as f:
            f.seek(0)
            while not self.stop.wait(0.2):
                self._pump(f)
            self._pump(f)
        if self.wrote:
            self.stream.write("\n")
            self.stream.flush()


class _LogToStream(logging.Handler):
    """papermill's log (cells started/ended, the notebook's stdout and stderr) -> a stream."""

    def __init__(self, stream):
        super().__init__(logging.INFO)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        self.stream.write(msg if msg.endswith("\n") else msg + "\n")
        self.stream.flush()


@dataclass
class RunOptions:
    """How chapters run: executor, cache, progress, streaming, seed."""
    executor: str | None = None       # REPLICATE_EXECUTOR for the kernel (None: threads)
    cache: Path | None = None         # REPLICATE_CACHE for the kernel (None: no cache)
    verbose: bool = False             # stream the notebook's output and papermill's cell log
    progress: bool | None = None      # relay sweep bars to stderr (None: when it is a terminal)
    seed: int | None = None           # recorded in run.json (injected as a parameter by the caller)
    extra: dict = field(default_factory=dict)  # more fields for run.json (figure id, command)


@contextlib.contextmanager
def kernel_session(opts: RunOptions, *, dry_run_plan: Path | None = None,
                   keep_log: Path | None = None) -> Iterator[Path]:
    """A private folder for the kernel's connection file and log (removed at the end, also on
    Ctrl-C and SIGTERM), the kernel's environment (executor, cache, progress, dry run) and the
    relay of its progress bars. On an error the kernel's log is copied to ``keep_log``. Yields
    the private folder."""
    system_tmp = Path(tempfile.gettempdir())
    _remove_stale_kernel_dirs(system_tmp)
    private = Path(tempfile.mkdtemp(prefix=f"{_KERNEL_DIR_PREFIX}{os.getpid()}-", dir=system_tmp))
    progress = opts.progress if opts.progress is not None else (sys.stderr.isatty() or opts.verbose)
    bar_file = private / "progress.txt"
    warn = os.environ.get("PYTHONWARNINGS", "")
    env = {"JUPYTER_RUNTIME_DIR": str(private),
           "PYTHONWARNINGS": f"{warn},{_KERNEL_WARNINGS}" if warn else _KERNEL_WARNINGS,
           "TQDM_DISABLE": "1",  # other bars would land in the notebook; the sweep's is relayed
           "REPLICATE_PROGRESS": str(bar_file) if progress else "off",
           "REPLICATE_EXECUTOR": opts.executor,
           "REPLICATE_CACHE": str(opts.cache) if opts.cache else None,
           "REPLICATE_DRY_RUN": str(dry_run_plan) if dry_run_plan else None,
           # the kernel process's own stderr: on the terminal with -v, else kept in kernel.log
           _KERNEL_LOG_ENV: None if opts.verbose else str(private / "kernel.log")}
    relay = _Relay(bar_file, sys.stderr) if progress else None
    handler = _LogToStream(sys.stderr) if opts.verbose else None
    pm_log = logging.getLogger("papermill")
    old_level = pm_log.level
    saved_tempdir = tempfile.tempdir
    try:
        with _terminate_cleanly(), _environ(env):
            # jupyter_client writes the kernel's connection file with tempfile.mkstemp
            tempfile.tempdir = str(private)
            if relay:
                bar_file.touch()
                relay.start()
            if handler:
                pm_log.addHandler(handler)
                pm_log.setLevel(logging.INFO)
            yield private
    except BaseException:
        log = private / "kernel.log"
        if keep_log is not None and log.is_file() and log.stat().st_size:
            with contextlib.suppress(OSError):
                shutil.copy(log, keep_log)
        raise
    finally:
        tempfile.tempdir = saved_tempdir
        if handler:
            pm_log.removeHandler(handler)
            pm_log.setLevel(old_level)
        if relay:
            relay.stop.set()
            relay.join(timeout=2)
        shutil.rmtree(private, ignore_errors=True)


# --------------------------------------------------------------------------- running

@dataclass
class Executed:
    chapter: str
    notebook: Path
    seconds: float


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _run_record(chapter: str, params: dict, opts: RunOptions, started: str, seconds: float,
                status: str) -> dict:
    from .. import __version__

    overrides = {k: v for k, v in params.items() if k != "profile"}
    seed = opts.seed if opts.seed is not None else overrides.get("seed")
    record = {"chapter": chapter, "profile": params.get("profile", "quick"),
              "parameters": overrides, "replicate_version": __version__,
              "wall_seconds": round(seconds, 3), "started": started, "ended": _now(),
              "status": status, "executor": opts.executor or "threads",
              "cache": str(opts.cache) if opts.cache else None,
              "python": sys.version.split()[0], **opts.extra}
    if seed is not None:
        record["seed"] = seed
    return record


_KERNEL_LOG_ENV = "REPLICATE_KERNEL_LOG"


def _kernel_manager_class():
    """jupyter_client's kernel manager, with the kernel process's own stderr (its start-up
    warnings, its shutdown messages) sent to ``$REPLICATE_KERNEL_LOG`` when that is set."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log = os.environ.get(_KERNEL_LOG_ENV)
            if not log:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            with open(log, "ab") as f:  # the child keeps its own copy of the descriptor
                kw.setdefault("stderr", f)
                return await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def _papermill(src: Path, dst: Path, params: dict, cwd: Path, opts: RunOptions,
               timeout: float | None = None) -> None:
    import papermill

    papermill.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3",
                               cwd=str(cwd), progress_bar=False, log_output=opts.verbose,
                               execution_timeout=timeout, kernel_manager_class=_kernel_manager_class())


def _failure_where(exc: BaseException) -> str:
    if hasattr(exc, "ename"):  # papermill.PapermillExecutionError: the failing cell's exception
        first = str(exc.evalue).strip().splitlines()
        return f" in cell {exc.exec_count}: {exc.ename}: {first[0] if first else ''}"
    if isinstance(exc, KeyboardInterrupt):
        return " (interrupted)"
    text = str(exc).strip().splitlines()
    return f": {type(exc).__name__}: {text[0] if text else ''}"


def run_chapter(chapter: str, out_dir: Path, *, root: Path, parameters: dict[str, Any] | None = None,
                log_output: bool = False, options: RunOptions | None = None,
                owned: bool = False) -> Executed:
    """Execute one chapter with papermill into ``out_dir`` (notebook, ``figures/``, ledger,
    ``run.json``).

    ``out_dir`` receives ``<name>.ipynb`` and whatever the chapter writes to its working
    directory. The path is checked first (:func:`check_output`); the run happens in a scratch
    directory next to ``out_dir`` that is moved into place only when the chapter succeeded.
    """
    import nbformat

    opts = options or RunOptions(verbose=log_output)
    nb = load_notebook(chapter_source(chapter, root))
    declared = chapter_parameters(nb)
    params = validate_parameters(declared, parameters or {}, chapter, profile_types(nb, declared))
    out_dir = check_output(out_dir, owned=owned)
    name = Path(chapter).name
    scratch = _make_scratch(out_dir, name)
    started, start = _now(), time.perf_counter()
    try:
        with kernel_session(opts, keep_log=scratch / "kernel.log"):
            src = scratch / f"{name}.source.ipynb"
            nbformat.write(nb, src)
            _papermill(src, scratch / f"{name}.ipynb", params, scratch, opts)
            src.unlink()
    except BaseException as exc:
        seconds = time.perf_counter() - start
        (scratch / f"{name}.source.ipynb").unlink(missing_ok=True)
        failed = Path(tempfile.mkdtemp(prefix=f"replicate-failed-{chapter.replace('/', '-')}-"))
        for child in scratch.iterdir():
            shutil.move(str(child), failed / child.name)
        scratch.rmdir()
        with contextlib.suppress(OSError):
            (failed / RUN_JSON).write_text(json.dumps(
                _run_record(chapter, params, opts, started, seconds, "failed"), indent=1, default=str))
        message = f"chapter {chapter!r} failed{_failure_where(exc)}; the partial run is in {failed}"
        if isinstance(exc, KeyboardInterrupt):
            raise type(exc)(message) from None
        raise RuntimeError(message) from None
    seconds = time.perf_counter() - start
    (scratch / RUN_JSON).write_text(json.dumps(
        _run_record(chapter, params, opts, started, seconds, "ok"), indent=1, default=str))
    (scratch / MARKER).write_text(json.dumps(
        {"written_by": "replicate", "chapter": chapter, "files": _files(scratch) + [MARKER]}, indent=1))
    _replace_dir(scratch, out_dir)
    return Executed(chapter, out_dir / f"{name}.ipynb", seconds)


@dataclass
class DryRun:
    chapter: str
    plans: list[dict]
    seconds: float          # wall time of the whole dry run (calibration points included)
    stopped: str | None     # why the chapter did not run to its end (None: it did)


def dry_run_chapter(chapter: str, *, root: Path, parameters: dict[str, Any] | None = None,
                    options: RunOptions | None = None, cell_timeout: float = 300.0) -> DryRun:
    """Run the chapter with ``REPLICATE_DRY_RUN`` in a throw-away folder: every sweep times one
    point and records its plan instead of computing (see :mod:`replicate.sweep`); the other
    cells run as usual, each for at most ``cell_timeout`` seconds."""
    import nbformat

    opts = options or RunOptions()
    nb = load_notebook(chapter_source(chapter, root))
    declared = chapter_parameters(nb)
    params = validate_parameters(declared, parameters or {}, chapter, profile_types(nb, declared))
    name = Path(chapter).name
    scratch = Path(tempfile.mkdtemp(prefix=f"replicate-dry-run-{chapter.replace('/', '-')}-"))
    plan_file = scratch / "plan.jsonl"
    start, stopped = time.perf_counter(), None
    try:
        with kernel_session(opts, dry_run_plan=plan_file):
            src = scratch / f"{name}.source.ipynb"
            nbformat.write(nb, src)
            try:
                _papermill(src, scratch / f"{name}.ipynb", params, scratch, opts, timeout=cell_timeout)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a placeholder NaN grid can break the analysis after a sweep
                if "timed out" in str(exc).lower() or type(exc).__name__ == "CellTimeoutError":
                    stopped = f"a cell ran longer than {cell_timeout:.0f} s (the dry-run limit per cell)"
                else:
                    stopped = f"the chapter stopped{_failure_where(exc)}"
        plans = [json.loads(line) for line in plan_file.read_text().splitlines()] if plan_file.is_file() else []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return DryRun(chapter, plans, time.perf_counter() - start, stopped)


def executed_dir(chapter: str, root: Path) -> Path:
    """Where ``replicate execute`` puts a chapter inside the book: ``book/executed/<id>/``."""
    return root / EXECUTED_DIR / chapter
