"""Open every built page of the book in headless Chromium and fail on what a reader would see
as broken: an image that does not load, a chapter page without a figure, a Python traceback,
math that MathJax did not render.  Screenshots go to _build/screenshots/ for a human look.

usage: python .ci/check_pages.py _build/html
"""
from __future__ import annotations

import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

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
  done({broken, figures, tracebacks, unrendered, math: mathNodes.length, mathjax});
}).catch(e => done({error: String(e)}));
"""


def driver() -> webdriver.Chrome:
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
