"""Run chapters: jupytext MyST source -> papermill -> executed notebook, figures and claims ledger.

Parameters are checked first (:mod:`.notebooks`), the output folder too (:mod:`.outputs`: nothing
in it is ever lost; a failed run is moved to its own fresh ``/tmp/replicate-failed-<chapter>-*``
folder).  Every run writes ``run.json`` next to the notebook: chapter, profile, the parameter
overrides, the seed, the executor and cache, the replicate version, wall time, start and end times.

The kernel's connection file goes to a private folder that is removed at the end, also when the
run is stopped with Ctrl-C or SIGTERM.
"""
from __future__ import annotations

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

from .notebooks import (chapter_parameters, chapter_source, load_notebook, profile_types,
                        validate_parameters)
from .outputs import MARKER, check_output, files, make_scratch, replace_dir

EXECUTED_DIR = Path("book") / "executed"
RUN_JSON = "run.json"
_KERNEL_DIR_PREFIX = "replicate-kernel-"
# tqdm.auto in a kernel without ipywidgets warns at import; bars never belong in a page
_KERNEL_WARNINGS = "ignore:IProgress not found"

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
    manifest: bool = True             # with a cache: record what the run needs (replicate list)


@contextlib.contextmanager
def kernel_session(opts: RunOptions, *, dry_run_plan: Path | None = None,
                   keep_log: Path | None = None, manifest: Path | None = None) -> Iterator[Path]:
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
           "REPLICATE_MANIFEST": str(manifest) if manifest else None,  # replicate.cache.manifest
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


def papermill_execute(src: Path, dst: Path, params: dict, cwd: Path, opts: RunOptions,
               timeout: float | None = None) -> None:
    import papermill

    papermill.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3",
                               cwd=str(cwd), progress_bar=False, log_output=opts.verbose,
                               execution_timeout=timeout, kernel_manager_class=_kernel_manager_class())


def failure_where(exc: BaseException) -> str:
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

    from ..cache import manifest as _manifest

    opts = options or RunOptions(verbose=log_output)
    nb = load_notebook(chapter_source(chapter, root))
    declared = chapter_parameters(nb)
    params = validate_parameters(declared, parameters or {}, chapter, profile_types(nb, declared))
    out_dir = check_output(out_dir, owned=owned)
    name = Path(chapter).name
    scratch = make_scratch(out_dir, name)
    manifest = None
    if opts.cache is not None and opts.manifest and not any(k != "profile" for k in params):
        # what this chapter needs from the cache (`replicate list --profile P`); only for a run
        # with the chapter's own parameters, which is what the status describes
        manifest = _manifest.start(opts.cache, params.get("profile", "quick"), chapter)
    started, start = _now(), time.perf_counter()
    try:
        with kernel_session(opts, keep_log=scratch / "kernel.log", manifest=manifest):
            src = scratch / f"{name}.source.ipynb"
            nbformat.write(nb, src)
            papermill_execute(src, scratch / f"{name}.ipynb", params, scratch, opts)
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
        message = f"chapter {chapter!r} failed{failure_where(exc)}; the partial run is in {failed}"
        if isinstance(exc, KeyboardInterrupt):
            raise type(exc)(message) from None
        raise RuntimeError(message) from None
    seconds = time.perf_counter() - start
    if manifest is not None:
        _manifest.finish(manifest, seconds)
    (scratch / RUN_JSON).write_text(json.dumps(
        _run_record(chapter, params, opts, started, seconds, "ok"), indent=1, default=str))
    (scratch / MARKER).write_text(json.dumps(
        {"written_by": "replicate", "chapter": chapter, "files": files(scratch) + [MARKER]}, indent=1))
    replace_dir(scratch, out_dir)
    return Executed(chapter, out_dir / f"{name}.ipynb", seconds)


def executed_dir(chapter: str, root: Path) -> Path:
    """Where ``replicate execute`` puts a chapter inside the book: ``book/executed/<id>/``."""
    return root / EXECUTED_DIR / chapter


def last_seconds(chapter: str, root: Path, profile: str = "quick") -> float | None:
    """Wall time of the chapter's last successful run of ``profile`` into ``book/executed/``
    (its ``run.json``), or None: a hint for scheduling chapters, never a result."""
    try:
        run = json.loads((executed_dir(chapter, root) / RUN_JSON).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(run, dict) and run.get("status") == "ok" and run.get("profile") == profile
    return float(run["wall_seconds"]) if ok and isinstance(run.get("wall_seconds"), (int, float)) else None
