"""Every study keeps the contract (`engine.check`): each check a test of its own, so a failure names
the study and the part."""

import pytest

import engine
from engine.check import CHECKS, StudyContractError, check_study

# Every part but the lessons, which tests/unit/test_lessons.py runs one by one.
PARTS = [name for name in CHECKS if name != "lessons"]


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("study", engine.list_studies(), ids=lambda s: s.id)
def test_the_study_keeps_its_contract(study, part):
    try:
        check_study(study, only=(part,))
    except StudyContractError as err:
        pytest.fail(str(err), pytrace=False)
