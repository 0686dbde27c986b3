"""The suite's thread rule (tests/conftest.py): the processes the tests start get one BLAS
thread, so a notebook kernel does not spin against the other pytest worker."""
import json
import os
import subprocess
import sys

import nbformat
from nbclient import NotebookClient

SUITE_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")  # as tests/conftest.py sets

PROBE = ("import json\nfrom threadpoolctl import threadpool_info\n"
         "print(json.dumps([i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']))")


def test_the_rule_is_in_the_environment_unless_the_caller_chose():
    for name in SUITE_THREADS:
        assert name in os.environ


def test_a_notebook_kernel_started_by_the_tests_has_one_blas_thread():
    if os.environ["OPENBLAS_NUM_THREADS"] != "1":  # the caller chose another count on purpose
        return
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy\n" + PROBE)])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert nb.cells[0].outputs[0]["text"].strip() == "[1]"


def test_the_probe_sees_more_threads_without_the_rule():
    """The probe can fail: with the variables removed, NumPy's BLAS takes more than one thread
    on a machine with more than one core."""
    env = {k: v for k, v in os.environ.items() if k not in SUITE_THREADS}
    out = subprocess.run([sys.executable, "-c", "import numpy\n" + PROBE], env=env, capture_output=True,
                         text=True, check=True, timeout=60).stdout
    threads = json.loads(out)[0]
    assert threads > 1 or os.cpu_count() == 1, threads
