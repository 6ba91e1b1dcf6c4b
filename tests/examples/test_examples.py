"""The README's main job and the autograd walk-through run and do what they say."""
import pytest

from tapegrad.examples import demo


def test_digits_cnn_learns_and_reloads(capsys):
    pytest.importorskip("sklearn")
    from tapegrad.examples import digits
    accuracy = digits.main(["--epochs", "3"])
    out = capsys.readouterr().out
    assert accuracy > 0.95
    assert "reloaded: test accuracy" in out
    assert out.count("[##############################]") == 3


def test_demo_walk_through(capsys):
    demo.main()
    out = capsys.readouterr().out
    assert "tensor([[4.5000, 4.5000]," in out          # d(out)/dx of the notes' first example
    assert "RuntimeError: Trying to backward through the graph a second time" in out
    assert "second: tensor(12.)" in out
    assert "accuracy:" in out
