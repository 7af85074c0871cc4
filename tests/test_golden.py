"""The indices of fixed calls (tests/golden/cases.py) are the recorded ones
(tests/golden/indices.json): a change of any result fails here."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "golden"))
import cases  # noqa: E402

with open(cases.GOLDEN) as f:
    RECORDED = json.load(f)


def test_every_case_is_recorded():
    assert sorted(RECORDED) == sorted(cases.CASES)


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_indices_unchanged(name):
    assert cases.run(name) == RECORDED[name]
