"""The SLURM recipe of book/reproduce.md runs as written (up to submitting jobs, which needs a
cluster): its job script starts one single-threaded worker with numba limited to one thread."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_slurm_recipe_writes_a_single_threaded_worker_job(capsys):
    pytest.importorskip("dask_jobqueue")
    text = (ROOT / "book" / "reproduce.md").read_text()
    block = re.search(r"```python\n(# slurm_cluster\.py.*?)```", text, re.S)
    assert block, "the SLURM recipe is missing from book/reproduce.md"
    code = block.group(1).split("cluster.scale(")[0]  # submitting jobs needs sbatch
    namespace: dict = {}
    exec(compile(code, "slurm_cluster.py", "exec"), namespace)
    cluster = namespace["cluster"]
    try:
        script = cluster.job_script()
        out = capsys.readouterr().out
        assert "#SBATCH" in script and "export NUMBA_NUM_THREADS=1" in script
        assert "--nthreads 1" in script or "--nworkers 1 --nthreads 1" in script
        assert "--dask tcp://" in out
    finally:
        cluster.close()
