"""The five seed programs (plain torch scripts in tests/seed_programs/) run unchanged under
tapegrad, installed as `torch`, and print what torch prints (machinery and comparison rules:
tests/program_runner.py)."""
from pathlib import Path

import pytest

from program_runner import check_program, compare, program_params

HERE = Path(__file__).parent
PROGRAMS = sorted((HERE / "seed_programs").glob("*.py"))

# Known failures, by program file name (strict xfail).
XFAIL: dict[str, str] = {}


def test_programs_are_present():
    assert len(PROGRAMS) == 5


@pytest.mark.parametrize("prog", program_params(PROGRAMS, XFAIL))
def test_seed_program(prog):
    check_program(prog)


def test_comparer_flags_differences():
    """The comparison itself: numbers within tolerance pass, text or value changes fail."""
    assert compare(["tensor([1.0000, 2.0000])"], ["tensor([1.00001, 2.0000])"], ["tensor([1.00001, 2.0000])"]) is None
    assert compare(["tensor([1.5, 2.])"], ["tensor([1., 2.])"], ["tensor([1., 2.])"]) is not None
    assert compare(["tensor(3., grad_fn=<MulBackward0>)"], ["tensor(3., grad_fn=<AddBackward0>)"],
                   ["tensor(3., grad_fn=<AddBackward0>)"]) is not None
    assert compare(["tensor([0.1234])"], ["tensor([-1.5000])"], ["tensor([0.7000])"]) is None  # random line
    assert compare(["a", "b"], ["a"], ["a"]) is not None
