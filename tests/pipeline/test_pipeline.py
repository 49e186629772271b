"""The book pipeline: dependency sets, table of contents, catalogue, CLI errors, atomic runs."""
from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from replicate.pipeline import build as book, catalogue, cli
from replicate.pipeline.notebooks import chapter_parameters, chapter_source, load_notebook
from replicate.pipeline.outputs import MARKER

ROOT = Path(__file__).resolve().parents[2]


def _requirement_names(specs: list[str]) -> dict[str, str]:
    """{normalised name: version constraint} of requirement strings."""
    out = {}
    for s in specs:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", s)
        out[m.group(1).lower().replace("_", "-")] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = [d for d in env if isinstance(d, str)]
    pip = [d for d in env if isinstance(d, dict)][0]["pip"]
    have = _requirement_names([d for d in conda if not d.startswith(("python", "pip"))] +
                              [d for d in pip if not d.startswith("-e")])
    assert have == _requirement_names(wanted)


def test_jupyter_book_stays_on_1x():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["book"]
    assert _requirement_names(deps)["jupyter-book"] == ">=1.0.4,<2"


def test_toc_lists_exactly_the_catalogue_chapters():
    assert sorted(book.toc_chapters(ROOT)) == sorted(catalogue.chapters())
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert "book/scorecard" in files


def test_catalogue_covers_every_figure_of_both_papers():
    ids = [f.id for f in catalogue.FIGURES]
    assert ids == [f"ferrari-fig{i}" for i in range(1, 20)] + [f"ribeiro-fig{i}" for i in range(1, 6)]


@pytest.mark.parametrize("chapter", catalogue.chapters())
def test_chapter_has_parameters_cell_with_profile(chapter):
    nb = load_notebook(chapter_source(chapter, ROOT))
    params = chapter_parameters(nb)
    assert params["profile"] == "quick"
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert {"nbval-check-output", "remove-input"} <= set(last.metadata.get("tags", []))
    assert "ledger.save()" in last.source and "ledger.table()" in last.source


def test_list_prints_every_figure(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for f in catalogue.FIGURES:
        assert f.id in out
    assert "(not built yet)" in out or all(f.chapter for f in catalogue.FIGURES)


@pytest.mark.parametrize("argv, words", [
    (["run", "ferrari-fig99"], ["unknown figure id", "ribeiro-fig2"]),
    (["run", "ribeiro-fig1", "-p", "no_such_knob=1"], ["no_such_knob", "valid parameters", "kappa"]),
    (["run", "ribeiro-fig1", "-p", "kappa=abc"], ["'kappa'", "float"]),
    (["run", "ribeiro-fig1", "--profile", "quick", "-p", "profile=fast"], ["profile"]),
])
def test_run_rejects_bad_requests_before_running(argv, words, capsys, tmp_path):
    assert cli.main(argv + ["--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err
    assert not (tmp_path / "out").exists()


def test_failed_run_leaves_output_untouched(tmp_path, monkeypatch, capsys):
    """A chapter that raises: the output folder (of an earlier run) keeps its old content,
    nothing half-written."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(ROOT / "_toc.yml", root / "_toc.yml")
    src = (ROOT / "chapters" / "ribeiro" / "fig1.md").read_text()
    broken = src.replace("import time\n", "import time\nraise RuntimeError('broken on purpose')\n", 1)
    (root / "chapters" / "ribeiro").mkdir(parents=True)
    (root / "chapters" / "ribeiro" / "fig1.md").write_text(broken)
    monkeypatch.setenv("REPLICATE_ROOT", str(root))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous run")
    (out / MARKER).write_text('{"files": ["keep.txt"]}')  # a folder written by an earlier run
    assert cli.main(["run", "ribeiro-fig1", "--output", str(out)]) == 2
    assert "failed" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "keep.txt"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fig1-")]


@pytest.mark.parametrize("chapter", catalogue.chapters())
def test_papermill_reads_every_parameter(chapter, capsys):
    """papermill's own parser must see every parameter, or it warns 'Passed unknown parameter'
    for a valid one on every rerun (its regex fails on some comments)."""
    from papermill.translators import PythonTranslator

    nb = load_notebook(chapter_source(chapter, ROOT))
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    seen = [p.name for p in PythonTranslator.inspect(cell)]
    assert seen == list(chapter_parameters(nb)), capsys.readouterr().out


def _documented_runs():
    import shlex

    for doc in ("README.md", "book/reproduce.md"):
        text = (ROOT / doc).read_text().replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("replicate run "):
                yield doc, shlex.split(line)[2:]


@pytest.mark.parametrize("doc, argv", list(_documented_runs()))
def test_documented_run_examples_are_valid(doc, argv):
    """Every `replicate run` example in the docs names a real figure and real, well-typed
    parameters (checked without running the chapter)."""
    from replicate.pipeline.notebooks import parse_assignments, validate_parameters

    args = cli.parser().parse_args(["run", *argv])
    chapter = cli._chapter_of(args.figure)
    declared = chapter_parameters(load_notebook(chapter_source(chapter, ROOT)))
    validate_parameters(declared, {"profile": args.profile, **parse_assignments(args.parameter)}, chapter)


@pytest.mark.parametrize("chapter", catalogue.chapters())
def test_chapter_title_has_no_math(chapter):
    """Titles appear in the navigation, where MathJax does not render: plain text only."""
    title = next(line for line in chapter_source(chapter, ROOT).read_text().splitlines()
                 if line.startswith("# "))
    assert "$" not in title and "\\(" not in title
