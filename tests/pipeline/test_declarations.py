"""Claims declared in a chapter's YAML file: templates, loops, and errors that name the row."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from replicate.pipeline import Ledger, declarations

ROOT = Path(__file__).resolve().parents[2]


def rows(text: str, **context):
    return list(declarations.expand(yaml.safe_load(text), context))


def test_templates_fill_keys_texts_and_numeric_bounds():
    (key, kw), = rows("""
vars:
  win: "t ∈ [{w[0]:g}, {w[1]:g}]"
claims:
  xi-L{L}:
    figure: Fig. 6(f)
    claim: decay length over {{sites}} in {win}
    paper: long range
    lower: "{L}"
    control: the window {win}
""", L=60, w=(100.0, 200.0))
    assert key == "xi-L60"
    assert kw["claim"] == "decay length over {sites} in t ∈ [100, 200]"   # doubled braces are literal
    assert kw["lower"] == 60.0 and isinstance(kw["lower"], float)
    assert kw["control"] == "the window t ∈ [100, 200]"


def test_foreach_zips_literal_lists_and_context_lists():
    out = rows("""
claims:
  onset-{name}-F{F:g}:
    foreach: {name: [a, b], F: drives}
    figure: Fig. 7
    claim: onset at F = {F:g}
    paper: p
    upper: "{F}"
""", drives=[1.5, 3.0])
    assert [k for k, _ in out] == ["onset-a-F1.5", "onset-b-F3"]
    assert [kw["upper"] for _, kw in out] == [1.5, 3.0]
    assert "foreach" not in out[0][1]


@pytest.mark.parametrize("text, match", [
    ("claims:\n  k:\n    figure: Fig. 1\n    claim: '{nope}'\n    paper: p\n", "'nope' is neither"),
    ("claims:\n  k:\n    figure: Fig. 1\n    claim: c\n    paper: p\n    bound: 1\n", "unknown fields"),
    ("claims:\n  k:\n    figure: Fig. 1\n    claim: c\n    paper: p\n    lower: 'x{L}'\n", "not a number"),
    ("claims:\n  k-{a}:\n    foreach: {a: [1, 2], b: [1]}\n    figure: Fig. 1\n    claim: c\n    paper: p\n",
     "different lengths"),
    ("claims:\n  k-{a}:\n    foreach: {a: missing}\n    figure: Fig. 1\n    claim: c\n    paper: p\n",
     "not a context variable"),
    ("declared:\n  k: {}\n", "expected a mapping with 'claims'"),
])
def test_a_bad_file_is_a_value_error_naming_the_row(text, match):
    with pytest.raises(ValueError, match=match):
        rows(text, L=3)


def test_declare_from_declares_every_row_through_the_ledger_checks(tmp_path, monkeypatch):
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    (tmp_path / "chapters" / "demo").mkdir(parents=True)
    (tmp_path / "chapters" / "demo" / "fig1.claims.yml").write_text(
        "claims:\n  r-{L}:\n    figure: Fig. 1\n    claim: ratio\n    paper: p\n    target: 1.0\n"
        "    tolerance: 0.1\n  s:\n    figure: Fig. 1\n    claim: c\n    paper: p\n    upper: 0\n")
    (tmp_path / "chapters" / "demo" / "fig3.claims.yml").write_text(
        "claims:\n  s:\n    figure: panel a\n    claim: c\n    paper: p\n    upper: 0\n")
    monkeypatch.setenv("REPLICATE_ROOT", str(tmp_path))
    ledger = Ledger("demo-fig1", "quick").declare_from("demo/fig1", L=4)
    assert list(ledger.declared) == ["r-4", "s"]
    assert ledger.check("r-4", 1.02, 0.01).verdict == "reproduced"
    with pytest.raises(ValueError, match="figure must start with 'Fig. N'"):   # Ledger.declare's own checks apply
        Ledger("demo-fig3", "quick").declare_from("demo/fig3")
    with pytest.raises(ValueError, match="no claims file"):
        Ledger("demo-fig2", "quick").declare_from("demo/fig2")


def test_a_repeated_claim_key_in_the_file_is_an_error(tmp_path):
    f = tmp_path / "x.claims.yml"
    f.write_text("claims:\n  k:\n    figure: Fig. 1\n    claim: a\n    paper: p\n"
                 "  k:\n    figure: Fig. 1\n    claim: b\n    paper: p\n")
    with pytest.raises(ValueError, match="repeated key 'k'"):
        declarations.load(f, {})


def test_every_claims_file_belongs_to_a_chapter_that_loads_it():
    files = sorted((ROOT / "chapters").rglob(f"*{declarations.SUFFIX}"))
    assert files, "no chapter declares its claims in a file"
    for f in files:
        chapter = f.with_name(f.name.removesuffix(declarations.SUFFIX) + ".md")
        assert chapter.is_file(), f"{f.name} has no chapter {chapter.name}"
        name = f.relative_to(ROOT / "chapters").as_posix().removesuffix(declarations.SUFFIX)
        assert re.search(rf"declare_from\(\s*\"{re.escape(name)}\"", chapter.read_text()), \
            f"{chapter.name} does not call declare_from({name!r})"
        yaml.load(f.read_text(), Loader=declarations._UniqueKeys)   # valid YAML, no repeated key
