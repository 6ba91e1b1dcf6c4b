"""Shared fixtures.

`torch`: the library under test, spelled `torch` so test bodies read as torch programs. A test that takes it
runs twice, on tapegrad and (when installed) on torch, the specification. A test module's `XFAIL` dict
(test name -> reason) marks tapegrad's known failures: strict xfail, on the tapegrad run only.
"""
import pytest

import tapegrad


@pytest.fixture(params=["tapegrad", "torch"])
def torch(request):
    """tapegrad or torch, with the calling module's XFAIL entry applied to the tapegrad run."""
    if request.param == "torch":
        return pytest.importorskip("torch")
    reason = getattr(request.module, "XFAIL", {}).get(request.node.originalname)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    return tapegrad
