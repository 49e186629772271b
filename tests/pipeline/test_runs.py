"""`replicate run/execute/regress/cache` as a new user meets them: the output folder never loses a
file, path problems are one clean line before anything runs, -v streams the notebook, parameters
declared None are type-checked, failures get their own folder, a killed run leaves no kernel
files, run.json records what was run, --seed, --dry-run; plus exact.steady_state's size check
and the page checker's stderr-warning rule."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from replicate.pipeline import build as book, catalogue, cli
from replicate.pipeline.execute import RUN_JSON
from replicate.pipeline.notebooks import chapter_source, load_notebook
from replicate.pipeline.outputs import MARKER

ROOT = Path(__file__).resolve().parents[2]

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A tiny chapter

"""


def _cell(source: str, tags: str = "") -> str:
    head = "```{code-cell} ipython3\n" + (f":tags: [{tags}]\n\n" if tags else "")
    return head + textwrap.dedent(source).strip() + "\n```\n\n"


def tiny_chapter(params: str, body: str) -> str:
    return HEADER + _cell(params, "parameters") + _cell(body)


PARAMS = '''
profile = "quick"
n = None          # default from the profile
seed = 1
label = "x"
'''
BODY = '''
from pathlib import Path
from replicate.pipeline import default
n = default(n, profile, quick=3, paper=5)
print(f"tiny chapter says n={n} seed={seed} label={label}")
Path("figures").mkdir(exist_ok=True)
Path("figures/a.txt").write_text(str(n))
'''


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A checkout whose ribeiro/fig1 chapter is a tiny notebook (written by ``make``)."""
    root = tmp_path / "root"
    (root / "chapters" / "ribeiro").mkdir(parents=True)
    shutil.copy(ROOT / "_toc.yml", root / "_toc.yml")
    monkeypatch.setenv("REPLICATE_ROOT", str(root))
    for var in ("REPLICATE_CACHE", "REPLICATE_EXECUTOR", "REPLICATE_DRY_RUN", "REPLICATE_PROGRESS"):
        monkeypatch.delenv(var, raising=False)

    def make(params: str = PARAMS, body: str = BODY, chapter: str = "ribeiro/fig1") -> Path:
        path = root / "chapters" / f"{chapter}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tiny_chapter(params, body))
        return root

    make()
    return make


def _run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- output folder

def test_run_refuses_a_foreign_non_empty_folder(tmp_path, capsys, fake_root):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("months of work")
    code, _, err = _run(["run", "ribeiro-fig1", "--output", str(out)], capsys)
    assert code == 2 and "not empty" in err and MARKER in err
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["file", "root", "unwritable", "under-a-file"])
def test_bad_output_paths_are_one_line_errors_before_running(kind, tmp_path, capsys, fake_root):
    # a chapter that would leave a trace if it ran
    fake_root(body=f"open({str(tmp_path / 'ran')!r}, 'w').write('ran')")
    target = {"file": tmp_path / "notes.txt", "root": Path("/"),
              "unwritable": Path("/proc/replicate-test/out"),
              "under-a-file": tmp_path / "notes.txt" / "out"}[kind]
    (tmp_path / "notes.txt").write_text("user file")
    before = sorted(os.listdir("/"))
    code, _, err = _run(["run", "ribeiro-fig1", "--output", str(target)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("replicate run: error: output")
    assert (tmp_path / "notes.txt").read_text() == "user file"
    assert not (tmp_path / "ran").exists()
    assert sorted(os.listdir("/")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_run_writes_marker_run_json_and_reruns_into_its_own_folder(tmp_path, capsys, fake_root):
    out = tmp_path / "out"
    code, stdout, err = _run(["run", "ribeiro-fig1", "--output", str(out), "-p", "label='y'",
                              "--seed", "7", "-v"], capsys)
    assert code == 0, err
    assert "tiny chapter says n=3 seed=7 label=y" in err  # -v streams the notebook's output
    assert "Executing Cell" in err
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == sorted([MARKER, RUN_JSON, "fig1.ipynb", "figures/a.txt"])
    rec = json.loads((out / RUN_JSON).read_text())
    assert rec["chapter"] == "ribeiro/fig1" and rec["figure"] == "ribeiro-fig1"
    assert rec["profile"] == "quick" and rec["parameters"] == {"label": "y", "seed": 7}
    assert rec["seed"] == 7 and rec["status"] == "ok" and rec["replicate_version"]
    assert rec["wall_seconds"] > 0 and rec["started"] <= rec["ended"]
    assert set(json.loads((out / MARKER).read_text())["files"]) == set(files)
    # the folder is ours: a rerun replaces it
    code, _, err = _run(["run", "ribeiro-fig1", "--output", str(out), "-p", "n=4"], capsys)
    assert code == 0, err
    assert (out / "figures" / "a.txt").read_text() == "4"
    assert json.loads((out / RUN_JSON).read_text())["parameters"] == {"n": 4}
    # ... unless someone put a file of their own into it
    (out / "figures" / "my-notes.txt").write_text("keep me")
    code, _, err = _run(["run", "ribeiro-fig1", "--output", str(out)], capsys)
    assert code == 2 and "figures/my-notes.txt" in err
    assert (out / "figures" / "my-notes.txt").read_text() == "keep me"


def test_without_verbose_the_notebook_output_stays_in_the_notebook(tmp_path, capsys, fake_root):
    code, stdout, err = _run(["run", "ribeiro-fig1", "--output", str(tmp_path / "o")], capsys)
    assert code == 0, err
    assert "tiny chapter says" not in stdout + err
    assert "executed ribeiro/fig1" in stdout


def test_failed_runs_get_their_own_folders(tmp_path, capsys, fake_root, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    fake_root(body="raise RuntimeError('broken on purpose')")
    fake_root(body="raise RuntimeError('broken on purpose')", chapter="ferrari/fig2")
    folders = []
    for fig in ("ribeiro-fig1", "ferrari-fig2", "ribeiro-fig1"):
        code, _, err = _run(["run", fig, "--output", str(tmp_path / fig)], capsys)
        assert code == 2 and "broken on purpose" in err
        folders.append(Path(err.rsplit("the partial run is in ", 1)[1].strip()))
    assert len(set(folders)) == 3 and all(f.is_dir() for f in folders)
    assert folders[0].name.startswith("replicate-failed-ribeiro-fig1-")
    assert folders[1].name.startswith("replicate-failed-ferrari-fig2-")
    assert json.loads((folders[0] / RUN_JSON).read_text())["status"] == "failed"
    assert (folders[0] / "fig1.ipynb").is_file()


# --------------------------------------------------------------------------- parameters

@pytest.mark.parametrize("argv, words", [
    (["ribeiro-fig1", "-p", "n=abc"], ["'n'", "an int", "abc"]),
    (["ribeiro-fig1", "-p", "n=2.5"], ["'n'", "an int", "2.5"]),
    (["ribeiro-fig1", "-p", "seed=abc"], ["'seed'", "int"]),
])
def test_parameters_declared_none_are_type_checked(argv, words, tmp_path, capsys, fake_root):
    code, _, err = _run(["run", *argv, "--output", str(tmp_path / "o")], capsys)
    assert code == 2
    for w in words:
        assert w in err
    assert not (tmp_path / "o").exists()


SAMPLE = {"int": "4", "float": "2.5", "bool": "True", "str": "'s'", "sequence": "[1, 2]"}


@pytest.mark.parametrize("chapter", [c for c in catalogue.chapters()
                                     if (ROOT / "chapters" / f"{c}.md").is_file()])
def test_real_chapters_type_check_parameters_declared_none(chapter):
    """Every `name = None` parameter of every chapter: a non-literal word is an error naming it;
    a value of the type of its default(name, profile, quick=, paper=) passes (a wrong type
    fails); with no default() call, only plain literals pass; None (the profile's value) passes."""
    from replicate.pipeline.notebooks import (check_chapter_parameters, chapter_parameters,
                                              parse_assignments, profile_types)

    nb = load_notebook(chapter_source(chapter, ROOT))
    declared = chapter_parameters(nb)
    expected = profile_types(nb, declared)
    for name in [k for k, v in declared.items() if v is None]:
        def check(value, ok):
            given = parse_assignments([f"{name}={value}"])
            if ok:
                check_chapter_parameters(chapter, ROOT, given)
            else:
                with pytest.raises(ValueError, match=f"parameter '{name}'"):
                    check_chapter_parameters(chapter, ROOT, given)

        check("abc", False)
        check("None", True)
        exp = expected.get(name)
        if exp is None:
            check("(1, 5)", True)
            check("{'a': 1}", False)
            continue
        check(SAMPLE[exp.kinds[0]], True)
        wrong = "'text'" if exp.kinds != ("str",) else "3"
        check(wrong, False)
        if exp.items == "int":
            check("[4.5]", False)


def test_none_parameter_types_come_from_the_profile_defaults():
    from replicate.pipeline.notebooks import chapter_parameters, profile_types

    nb = load_notebook(chapter_source("ferrari/fig2", ROOT))
    exp = profile_types(nb, chapter_parameters(nb))
    assert exp["n_traj"].kinds == ("int",) and exp["t_avg"].kinds == ("float",)
    assert exp["L_values"].kinds == ("sequence",) and exp["L_values"].items == "int"
    assert exp["F_values"].kinds == ("sequence",)


# --------------------------------------------------------------------------- --seed

def test_seed_goes_to_chapters_that_declare_it(tmp_path, fake_root, capsys):
    root = fake_root(params='profile = "quick"\n', chapter="ribeiro/fig2")
    per = {"ribeiro/fig1": {}, "ribeiro/fig2": {}}
    assert book.inject_seed(per, 5, root, explicit=False) == ["ribeiro/fig2"]
    assert per == {"ribeiro/fig1": {"seed": 5}, "ribeiro/fig2": {}}
    with pytest.raises(ValueError, match="ribeiro/fig2 have no 'seed'"):
        book.inject_seed({"ribeiro/fig2": {}}, 5, root, explicit=True)
    with pytest.raises(ValueError, match="disagree"):
        book.inject_seed({"ribeiro/fig1": {"seed": 3}}, 5, root, explicit=False)
    code, _, err = _run(["run", "ribeiro-fig2", "--seed", "3", "--output", str(tmp_path / "o")], capsys)
    assert code == 2 and "no 'seed' parameter" in err


def test_execute_seed_is_injected_and_recorded(fake_root, capsys):
    root = fake_root()
    code, stdout, err = _run(["execute", "--only", "ribeiro-fig1", "--seed", "11"], capsys)
    assert code == 0, err
    rec = json.loads((root / "book" / "executed" / "ribeiro" / "fig1" / RUN_JSON).read_text())
    assert rec["seed"] == 11 and rec["parameters"] == {"seed": 11}


# --------------------------------------------------------------------------- kernels and signals

SLEEPER = '''
import os, time
from pathlib import Path
Path(os.environ["SLEEPER_PID"]).write_text(str(os.getpid()))
time.sleep(120)
'''


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_killed_run_leaves_no_kernel_files(sig, code, tmp_path, fake_root):
    """SIGTERM/SIGINT during a cell: the kernel is shut down, its connection file (written by
    jupyter_client with tempfile.mkstemp) and the private folder are removed."""
    fake_root(body=SLEEPER)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    pid_file = tmp_path / "kernel.pid"
    env = {**os.environ, "TMPDIR": str(tmp), "SLEEPER_PID": str(pid_file)}
    proc = subprocess.Popen([sys.executable, "-m", "replicate.pipeline.cli", "run", "ribeiro-fig1",
                             "--output", str(tmp_path / "out")], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for _ in range(600):
            if pid_file.is_file() and pid_file.read_text():
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert list(tmp.glob("replicate-kernel-*/*.json"))  # the connection file is in there
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    kernel = int(pid_file.read_text())
    for _ in range(100):
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(kernel, signal.SIGKILL)
        pytest.fail("the kernel outlived the run")
    left = sorted(p.name for p in tmp.iterdir())
    assert [n for n in left if not n.startswith("replicate-failed-ribeiro-fig1-")] == [], left
    assert not (tmp_path / "out").exists()


def test_stale_private_folders_of_killed_runs_are_removed(tmp_path, monkeypatch):
    import tempfile

    from replicate.pipeline import execute

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"replicate-kernel-{dead.pid}-abc"
    stale.mkdir()
    (stale / "tmpx.json").write_text("{}")
    live = tmp_path / f"replicate-kernel-{os.getpid()}-def"
    live.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with execute.kernel_session(execute.RunOptions(progress=False)) as private:
        assert private.parent == tmp_path and private.is_dir()
        assert Path(tempfile.mkstemp(".json")[1]).parent == private
    assert not stale.exists() and live.exists() and not private.exists()


# --------------------------------------------------------------------------- dry run

DRY_BODY = '''
import os
import xarray as xr
from replicate.sweep import grid, once
settings = dict(n_traj=500, t_relax=100.0, t_avg=200.0)

def one(L, F):
    with open(os.environ["DRY_CALLS"], "a") as f:
        f.write(f"{L},{F}\\n")
    return xr.Dataset({"x": ((), float(L * F * settings["n_traj"]))})

ds = grid(one, {"L": [8, 4, 6], "F": [1.0, 2.0]}, desc="tiny sweep")
assert int(ds["computed"].sum()) == 1
single = once(one, desc="single run", L=2, F=3.0)  # a single call is computed for real
'''


def test_dry_run_reports_the_plan_without_computing(tmp_path, fake_root, capsys, monkeypatch):
    fake_root(body=DRY_BODY)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("DRY_CALLS", str(calls))
    out = tmp_path / "out"
    code, stdout, err = _run(["run", "ribeiro-fig1", "--profile", "paper", "--dry-run",
                              "--output", str(out)], capsys)
    assert code == 0, err
    assert calls.read_text().splitlines() == ["4,1.0", "2,3.0"]  # one calibration point (the smallest L), the single call
    assert "call 'single run': computed in the dry run" in stdout
    assert "sweep 'tiny sweep': L 3 × F 2 = 6 points (0 cached, 5 still to compute)" in stdout
    assert "n_traj=500" in stdout and "3,000 trajectories" in stdout
    assert "t_relax + t_avg = 300" in stdout
    assert "calibration: the point L=4, F=1.0 took" in stdout and "(measured" in stdout
    assert "(estimated)" in stdout and "estimated wall time on this machine" in stdout
    assert "ended early" not in stdout
    assert not out.exists()


# --------------------------------------------------------------------------- regress, cache

def test_regress_refuses_ledgers_of_another_profile(capsys, tmp_path):
    """After a stored or paper build the ledgers are not the quick profile's: one line, not a
    wall of 'regressions' against the quick baseline."""
    base = json.loads((ROOT / cli.BASELINE).read_text())
    claims = [dict(c, profile="paper") for c in base["claims"] if c["chapter"] == "ferrari-fig1"]
    (tmp_path / "ferrari-fig1.claims.json").write_text(json.dumps(
        {"chapter": "ferrari-fig1", "profile": "paper", "wall_seconds": 1.0, "claims": claims, "values": []}))
    code, out, err = _run(["regress", "--ledgers", str(tmp_path)], capsys)
    assert code == 2 and "not of the quick profile" in err and "ferrari-fig1" in err and not out


def test_regress_with_a_missing_ledgers_folder_says_so(capsys, tmp_path):
    code, out, err = _run(["regress", "--ledgers", "/nonexistent"], capsys)
    assert code == 2 and "/nonexistent does not exist" in err and "regression" not in out
    code, out, err = _run(["regress", "--ledgers", str(tmp_path)], capsys)
    assert code == 2 and "no claims ledgers" in err


def test_cache_command(tmp_path, capsys, monkeypatch):
    from replicate import cache
    from replicate.sweep import grid

    root = tmp_path / "c"
    monkeypatch.setenv(cache.ENV, str(root))
    grid(_point, {"a": [1, 2, 3]}, progress=False, desc="three")
    code, out, _ = _run(["cache", "info"], capsys)
    assert code == 0 and "3 point(s) in 1 sweep(s)" in out and "three" in out
    entry = next(cache.Cache(root).entries())
    entry.write_bytes(entry.read_bytes()[:50])
    code, out, _ = _run(["cache", "verify", "--cache", str(root)], capsys)
    assert code == 1 and "corrupt" in out and entry.name in out
    code, out, _ = _run(["cache", "verify", "--delete"], capsys)
    assert code == 0 and not entry.exists()
    code, out, _ = _run(["cache", "clear"], capsys)
    assert code == 0 and "removed 2 point(s)" in out and list(cache.Cache(root).entries()) == []
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("mine")
    code, _, err = _run(["cache", "clear", "--cache", str(tmp_path / "other")], capsys)
    assert code == 2 and "not a replicate cache" in err and (tmp_path / "other" / "x.txt").exists()
    code, _, err = _run(["run", "ribeiro-fig1", "--cache", str(tmp_path / "other"),
                         "--output", str(tmp_path / "o")], capsys)
    assert code == 2 and "not a replicate cache" in err


def test_cache_prune_removes_only_what_no_manifest_lists(tmp_path, capsys, monkeypatch):
    from replicate import cache
    from replicate.cache import manifest
    from replicate.sweep import grid

    root = tmp_path / "store"
    monkeypatch.setenv(cache.ENV, str(root))
    grid(_point, {"a": [1, 2, 3]}, progress=False, desc="old")  # a sweep the chapter no longer runs
    code, _, err = _run(["cache", "prune"], capsys)
    assert code == 2 and "no chapter manifests" in err  # a user cache: cannot tell, touches nothing
    monkeypatch.setenv(manifest.ENV, str(manifest.start(root, "paper", "demo/fig")))
    grid(_point, {"a": [2, 5]}, progress=False, desc="new")
    monkeypatch.delenv(manifest.ENV)
    code, out, _ = _run(["cache", "prune"], capsys)
    assert code == 0 and "2 entries" in out and "--delete removes them" in out
    assert len(list(cache.Cache(root).entries())) == 4
    code, out, _ = _run(["cache", "prune", "--delete"], capsys)
    assert code == 0 and out.count("(deleted)") == 2
    assert len(list(cache.Cache(root).entries())) == 2
    code, out, _ = _run(["cache", "prune"], capsys)
    assert code == 0 and "0 entries" in out  # what is left is what the manifest lists


def _point(a):
    import xarray as xr

    return xr.Dataset({"y": ((), float(a) ** 2)})


def test_dask_option_without_scheduler_is_one_line(tmp_path, capsys, fake_root):
    code, _, err = _run(["run", "ribeiro-fig1", "--dask", "tcp://127.0.0.1:9", "--output",
                         str(tmp_path / "o")], capsys)
    assert code == 2 and "cannot reach the Dask scheduler" in err and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- others' pieces

def test_exact_steady_state_checks_the_size_of_an_explicit_n_max():
    from replicate import exact
    from replicate.chain import ChainParams

    with pytest.raises(ValueError, match=r"n_max=20 .*L=8.*dimension \(n_max\+1\)\^L = 37822859361"):
        exact.steady_state(ChainParams(L=8, F=1.0), n_max=20)


def _check_pages():
    spec = importlib.util.spec_from_file_location("check_pages", ROOT / ".ci" / "check_pages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


STDERR_PAGE = """<html><body><main>
<div class="cell docutils container"><div class="cell_output docutils container">
<div class="output stderr highlight-myst-ansi notranslate"><div class="highlight"><pre><span></span>
/work/main/.venv/lib/python3.11/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress not found. Please update jupyter and ipywidgets.<br/>
  from .autonotebook import tqdm as notebook_tqdm
</pre></div></div></div></div>
<p>Text after.</p></main></body></html>"""


def test_page_checker_fails_on_warning_text_in_stderr():
    cp = _check_pages()
    shown = cp.html_warnings(STDERR_PAGE)
    assert shown and "IProgress not found" in shown[0]
    assert cp.html_warnings(STDERR_PAGE.replace("TqdmWarning: IProgress not found", "50 points done")) == []
    clean = "<main><div class='output stream'><pre>n = 3</pre></div><p>A warning about x.</p></main>"
    assert cp.html_warnings(clean) == []
    printed = "<main><div class='output stream'><pre>x.py:3: RuntimeWarning: invalid value</pre></div></main>"
    assert cp.html_warnings(printed) == ["x.py:3: RuntimeWarning: invalid value"]
    assert cp.warnings_shown(["UserWarning: careful"]) == ["UserWarning: careful"]


def test_page_checker_fails_on_a_stray_object_repr():
    cp = _check_pages()
    assert cp.reprs_shown("a\nPosixPath('figures/ferrari-fig9.png')\nb") == ["PosixPath('figures/ferrari-fig9.png')"]
    assert cp.reprs_shown("<Figure size 1000x360 with 2 Axes>") != []
    assert cp.reprs_shown("[<matplotlib.lines.Line2D at 0x7f3a>]") != []
    assert cp.reprs_shown("We save the figure with savefig (a pathlib.Path in the code).") == []


def test_kernel_shows_no_iprogress_warning(tmp_path, capsys, fake_root):
    """The kernels of `replicate run` import tqdm.auto (the engine does) without a warning in the
    page, and a sweep's bar never lands in the notebook."""
    fake_root(body='''
import tqdm.auto
import xarray as xr
from replicate.sweep import grid
grid(lambda a: xr.Dataset({"y": ((), float(a))}), {"a": [1, 2, 3]}, progress=True, desc="bar")
print("done")
''')
    out = tmp_path / "o"
    code, _, err = _run(["run", "ribeiro-fig1", "--output", str(out)], capsys)
    assert code == 0, err
    nb = json.loads((out / "fig1.ipynb").read_text())
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert [o for o in outputs if o.get("name") == "stderr"] == []
    assert any("done" in "".join(o.get("text", "")) for o in outputs)


STORE_BODY = '''
import xarray as xr
from replicate.pipeline import default
from replicate.sweep import grid, once
n = default(n, profile, quick=3, paper=5)
a = once(xr.DataArray, desc="tiny once", data=[1.0, float(seed)], dims="x")
g = grid(lambda k: xr.Dataset({"y": ((), float(k) * n)}), {"k": [1, 2]}, desc="tiny grid", progress=False)
print("values", a.values.tolist(), g.y.values.tolist())
'''


def test_stored_profile_builds_paper_chapters_from_the_store_and_quick_the_rest(tmp_path, fake_root, capsys):
    """--profile stored: the paper profile where the committed store is complete (read from it,
    its manifest left alone), the quick profile elsewhere; overrides are refused."""
    import json

    root = fake_root(body=STORE_BODY)
    run_json = root / "book" / "executed" / "ribeiro" / "fig1" / "run.json"
    code, out, err = _run(["execute", "--profile", "stored", "--only", "ribeiro-fig1"], capsys)
    assert code == 0, err
    assert json.loads(run_json.read_text())["profile"] == "quick" and "paper for 0 chapter(s)" in out
    code, out, err = _run(["run", "ribeiro-fig1", "--profile", "paper", "--output", str(tmp_path / "p")], capsys)
    assert code == 0, err
    manifest_file = next((root / cli.PAPER_STORE / "manifests").rglob("*.json"))
    before = manifest_file.read_bytes()
    code, out, err = _run(["execute", "--profile", "stored", "--only", "ribeiro-fig1", "-v"], capsys)
    assert code == 0, err
    assert json.loads(run_json.read_text())["profile"] == "paper" and "paper for 1 chapter(s)" in out
    assert "values [1.0, 1.0] [5.0, 10.0]" in err  # the paper profile's numbers (n = 5)
    assert manifest_file.read_bytes() == before
    code, out, err = _run(["execute", "--profile", "stored", "-p", "n=2"], capsys)
    assert code == 2 and "no -p overrides" in err
    # a result over the store's size budget would be recomputed at the paper's cost: quick then
    from replicate import cache

    cache.Cache(root / cli.PAPER_STORE).clear()
    (root / cli.PAPER_STORE / cache.STORE_FILE).write_text('{"max_entry_bytes": 100}')
    code, out, err = _run(["run", "ribeiro-fig1", "--profile", "paper", "--output", str(tmp_path / "p")], capsys)
    assert code == 0, err
    code, out, err = _run(["list", "--profile", "paper"], capsys)
    assert "3 over the size budget: recomputed" in out.split("ribeiro-fig1")[1].splitlines()[0]
    code, out, err = _run(["execute", "--profile", "stored", "--only", "ribeiro-fig1"], capsys)
    assert code == 0 and json.loads(run_json.read_text())["profile"] == "quick"


def test_paper_profile_fills_the_committed_store_and_list_reports_it(tmp_path, fake_root, capsys):
    """--profile paper reads and fills <root>/results/paper (a manifest per chapter); `list
    --profile paper` says complete / partial / none; --no-cache writes nothing; `cache recompute`
    rebuilds the entries whose call it can make again."""
    root = fake_root(body=STORE_BODY)
    store = root / cli.PAPER_STORE
    code, out, err = _run(["list", "--profile", "paper"], capsys)
    assert code == 0 and "ribeiro-fig1" in out and "none" in out.split("ribeiro-fig1")[1].splitlines()[0]
    code, out, err = _run(["run", "ribeiro-fig1", "--profile", "paper", "--no-cache",
                           "--output", str(tmp_path / "a")], capsys)
    assert code == 0, err
    assert not store.exists()
    code, out, err = _run(["run", "ribeiro-fig1", "--profile", "paper", "--output", str(tmp_path / "b")], capsys)
    assert code == 0, err
    code, out, err = _run(["list", "--profile", "paper"], capsys)
    assert "complete (3 entries, last run " in out.split("ribeiro-fig1")[1].splitlines()[0]
    code, out, err = _run(["cache", "recompute", "--cache", str(store), "--sample", "5"], capsys)
    assert code == 0 and "1 entry recomputed, 0 different" in out and "tiny once" in out
    next((store / "v1").glob("*/*.nc")).unlink()
    code, out, err = _run(["list", "--profile", "paper"], capsys)
    assert "partial (2 of 3 entries)" in out.split("ribeiro-fig1")[1].splitlines()[0]
    # a run with overrides is not what the status describes: it leaves the manifest alone
    code, out, err = _run(["run", "ribeiro-fig1", "--profile", "paper", "-p", "n=7",
                           "--output", str(tmp_path / "c")], capsys)
    assert code == 0, err
    code, out, err = _run(["list", "--profile", "paper"], capsys)
    assert "partial (2 of 3 entries)" in out.split("ribeiro-fig1")[1].splitlines()[0]
    code, out, err = _run(["run", "ribeiro-fig1", "--cache", str(store), "--no-cache",
                           "--output", str(tmp_path / "d")], capsys)
    assert code == 2 and "contradict" in err
