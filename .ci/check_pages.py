"""Open every built page of the book in headless Chromium and fail on what a reader would see
as broken: an image that does not load, a chapter page without a figure, a Python traceback,
math that MathJax did not render, warning text in a cell's stderr output (e.g. tqdm's
"IProgress not found", a RuntimeWarning) or a Python warning line anywhere on the page.
Screenshots go to _build/screenshots/ for a human look.

usage: python .ci/check_pages.py _build/html
"""
from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SKIP = {"genindex.html", "search.html", "py-modindex.html"}

PROBE = r"""
const done = arguments[arguments.length - 1];
const ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
ready.then(() => {
  const main = document.querySelector('main') || document.body;
  const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
  const figures = main.querySelectorAll('.cell_output img, figure img, img.cell_output').length;
  const tracebacks = main.querySelectorAll('.output.traceback, .output.error').length
      + (main.innerText.includes('Traceback (most recent call last)') ? 1 : 0);
  const mathNodes = [...main.querySelectorAll('.math')];
  const unrendered = mathNodes.filter(m => !m.querySelector('mjx-container')).length
      + main.querySelectorAll('mjx-merror').length;
  const mathjax = !!(window.MathJax && MathJax.version);
  const stderr = [...main.querySelectorAll('.output.stderr, .stderr')].map(e => e.innerText);
  done({broken, figures, tracebacks, unrendered, math: mathNodes.length, mathjax, stderr,
        text: main.innerText});
}).catch(e => done({error: String(e)}));
"""


# what a warning looks like in a stderr output: "…/x.py:21: TqdmWarning: IProgress not found",
# "RuntimeWarning: invalid value", "WARNING: …", "Warning: …"
WARNING_IN_STDERR = re.compile(r"\w*Warning\b|\bWARNING\b|\bwarning:|IProgress not found", re.I)
# the warnings module's own format, anywhere on the page (e.g. printed to stdout)
WARNING_LINE = re.compile(r"\S+\.py:\d+: \w*Warning: ")


# the repr of an object a cell ended with, shown as its output by accident (a cell ending in a
# call that returns a path or an artist): "PosixPath('figures/x.png')", "<Figure size 640x480 …>"
STRAY_REPR = re.compile(r"\b(?:Posix|Windows)Path\('|<Figure size \d|<matplotlib\.[\w.]+ object at 0x|"
                        r"^\[?<matplotlib\.\w+\.\w+ at 0x", re.M)


def reprs_shown(page_text: str) -> list[str]:
    """The lines of a page that show the bare repr of an object (see :data:`STRAY_REPR`)."""
    return [line.strip() for line in page_text.splitlines() if STRAY_REPR.search(line)]


def warnings_shown(stderr_texts: list[str], page_text: str = "") -> list[str]:
    """The lines of a page that show a warning: in a cell's stderr output, or a Python
    ``file.py:N: SomeWarning:`` line anywhere."""
    found = []
    for text in stderr_texts:
        found += [line.strip() for line in text.splitlines() if WARNING_IN_STDERR.search(line)]
    found += [line.strip() for line in page_text.splitlines()
              if WARNING_LINE.search(line) and line.strip() not in found]
    return found


class _StderrText(HTMLParser):
    """The text of the elements with class ``stderr`` in a page (as MyST-NB renders a cell's
    stderr stream: ``<div class="output stderr ...">``), and the page's whole text."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # > 0 inside a stderr element
        self.blocks: list[str] = []
        self.text: list[str] = []

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def handle_startendtag(self, tag, attrs):  # <br/>: no content, no depth
        pass

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
        elif "stderr" in classes:
            self.depth = 1
            self.blocks.append("")

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        self.text.append(data)
        if self.depth:
            self.blocks[-1] += data


def html_warnings(html: str) -> list[str]:
    """:func:`warnings_shown` of a page's HTML source (no browser needed)."""
    parser = _StderrText()
    parser.feed(html)
    return warnings_shown(parser.blocks, "".join(parser.text))


def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--allow-file-access-from-files", "--window-size=1280,1800"):
        opts.add_argument(flag)
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_script_timeout(30)
    return d


def main(html_dir: str) -> int:
    root = Path(html_dir).resolve()
    shots = root.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    pages = sorted(p for p in root.rglob("*.html") if p.name not in SKIP and "_static" not in p.parts
                   and 'http-equiv="Refresh"' not in p.read_text(errors="ignore")[:2000])
    chapters = {p for p in pages if "executed" in p.parts}
    if not chapters:
        print("check_pages: no chapter pages were built")
        return 1
    failures = []
    d = driver()
    try:
        for page in pages:
            d.get(page.as_uri())
            r = d.execute_async_script(PROBE)
            rel = page.relative_to(root)
            d.save_screenshot(str(shots / (str(rel).replace("/", "_") + ".png")))
            problems = []
            if "error" in r:
                problems.append(f"probe failed: {r['error']}")
            else:
                if r["broken"]:
                    problems.append(f"broken images {r['broken']}")
                if page in chapters and r["figures"] == 0:
                    problems.append("no figure")
                if r["tracebacks"]:
                    problems.append("a Python traceback is shown")
                if r["unrendered"]:
                    problems.append(f"{r['unrendered']} math node(s) not rendered (MathJax loaded: {r['mathjax']})")
                shown = warnings_shown(r.get("stderr", []), r.get("text", ""))
                shown += [w for w in html_warnings(page.read_text(errors="ignore")) if w not in shown]
                if shown:
                    problems.append(f"warning text shown: {shown[0][:160]!r}"
                                    + (f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""))
                stray = reprs_shown(r.get("text", ""))
                if stray:
                    problems.append(f"object repr shown as output: {stray[0][:160]!r}")
            status = "FAIL " + "; ".join(problems) if problems else "ok"
            figs = r.get("figures", 0)
            print(f"{rel}: {status} (figures {figs}, math {r.get('math', 0)})")
            if problems:
                failures.append(rel)
    finally:
        d.quit()
    print(f"check_pages: {len(pages)} pages, {len(failures)} with problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "_build/html"))
