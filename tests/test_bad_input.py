"""Every bad input (tests/bad_inputs.py) through every entry point: in this
process, and in a child process so that a crash shows as a crash."""
import os
import subprocess
import sys

import pytest

from bad_inputs import CASES, ENTRY_POINTS, check

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_naming_argument_and_value(entry, case):
    problem = check(entry, case)
    assert problem is None, problem


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_bad_inputs_in_child_process(entry):
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "bad_inputs.py"), entry],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )
    # a negative return code is a signal: the child crashed
    assert proc.returncode == 0, (
        f"child exited with {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    )
    assert f"{len(CASES)} cases, 0 problems" in proc.stdout
