"""The output folder of a run: nothing in it is ever lost.

* the output path is checked before the notebook starts (not a file, not ``/``, writable);
* a folder that is not empty must be one this tool wrote: it holds the marker
  ``.replicate-output.json`` listing the files of that run, and any other file in it is an
  error (move it or pick another folder);
* the run happens in a scratch folder next to the output folder that replaces it only on
  success (:func:`make_scratch`, :func:`replace_dir`).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

MARKER = ".replicate-output.json"

def read_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def files(folder: Path) -> list[str]:
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
        present = files(out)
        marker = read_marker(out)
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


def make_scratch(out: Path, name: str) -> Path:
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


def replace_dir(new: Path, target: Path) -> None:
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old)
    else:
        new.rename(target)
