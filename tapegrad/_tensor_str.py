"""Printing of tensors, character for character as torch 2.13 prints them.

``tensor_repr(t)`` builds torch's ``tensor(...)`` frame: the body (nested
brackets, one shared number format per tensor, line wrapping, summarisation
with ``...``) followed by the ``dtype=`` / ``grad_fn=`` / ``requires_grad=``
suffixes. ``set_printoptions``, ``get_printoptions`` and ``printoptions``
control it with torch's names, defaults and profiles.

The tensor is read through a few attributes only (``_data``, ``dtype``,
``grad_fn``, ``requires_grad``), so this module does not depend on the
Tensor class. Values are formatted from their float64 conversion, as torch
formats them from Python floats, so float32 shows float32 rounding.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator

import numpy as np


@dataclasses.dataclass
class _PrintOptions:
    """The current print options; field names are torch's."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

# profile name -> (precision, threshold, edgeitems, linewidth)
_PROFILES: dict[str, tuple[int, float, int, int]] = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the options used to print tensors, as ``torch.set_printoptions``.

    ``profile`` (``"default"``, ``"short"`` or ``"full"``) first sets
    precision, threshold, edgeitems and linewidth; the other arguments then
    override it. An unknown profile is ignored, as in torch. ``sci_mode`` is
    set on every call, so leaving it out returns to automatic choice.
    """
    if profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold,
         PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as a dict accepted by ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Context manager that sets print options and restores the previous ones on exit."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------- numbers

def _format_floats(values: np.ndarray) -> tuple[list[str], int]:
    """Format real floating values with one shared style; return (padded strings, width).

    The style (integer-like ``1.``, fixed, or scientific) and the width are
    decided by the non-zero finite values only; zeros, NaN and infinities are
    formatted in the same style but do not count towards the width.
    """
    flat = values.astype(np.float64, copy=False).ravel()
    counted = np.isfinite(flat) & (flat != 0)
    precision = PRINT_OPTS.precision
    if not counted.any():
        # Nothing to measure: integer style and width 1, whatever sci_mode says.
        return [_int_style(x) for x in flat.tolist()], 1

    magnitudes = np.abs(flat[counted])
    smallest, largest = float(magnitudes.min()), float(magnitudes.max())
    int_mode = bool(np.all(np.ceil(flat[counted]) == flat[counted]))
    if PRINT_OPTS.sci_mode is None:
        sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
    else:
        sci_mode = bool(PRINT_OPTS.sci_mode)

    if sci_mode:
        spec = f".{precision}e"
        strings = [format(x, spec) for x in flat.tolist()]
    elif int_mode:
        strings = [_int_style(x) for x in flat.tolist()]
    else:
        spec = f".{precision}f"
        strings = [format(x, spec) for x in flat.tolist()]

    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    width = max(1, int(lengths[counted].max()))
    return [s.rjust(width) for s in strings], width


def _int_style(x: float) -> str:
    """An integral float as torch shows it: ``3.`` (non-finite values without the dot)."""
    text = format(x, ".0f")
    return text + "." if math.isfinite(x) else text


def _format_values(values: np.ndarray) -> tuple[list[str], int]:
    """Format every value of ``values`` (flattened, C order) for printing.

    Returns the element strings and the element length used to decide how
    many elements fit on a line (width plus the ``", "`` separator).
    """
    kind = values.dtype.kind
    if kind == "c":
        reals, real_width = _format_floats(values.real)
        imags, imag_width = _format_floats(values.imag)
        strings = []
        for real, imag in zip(reals, imags):
            imag = (imag + "j").lstrip()
            strings.append(real + imag if imag[0] in "+-" else real + "+" + imag)
        return strings, real_width + 2 + imag_width + 1
    if kind == "f":
        strings, width = _format_floats(values)
        return strings, width + 2
    # bool and integer dtypes: Python's str of each value, right-aligned.
    strings = [str(x) for x in values.ravel().tolist()]
    width = max(1, max(map(len, strings)))
    return [s.rjust(width) for s in strings], width + 2


# ---------------------------------------------------------------- layout

def _shown_part(data: np.ndarray, summarize: bool) -> tuple[np.ndarray, list[bool]]:
    """The values that will be printed, and for each dim whether it is cut with ``...``.

    A dim is cut when summarising and it is longer than twice ``edgeitems``;
    only its first and last ``edgeitems`` entries are kept. The number format
    is decided from this part alone, as in torch.
    """
    edge = PRINT_OPTS.edgeitems
    cut = [summarize and size > 2 * edge for size in data.shape]
    shown = data
    for axis, is_cut in enumerate(cut):
        if is_cut:
            size = data.shape[axis]
            keep = np.r_[0:edge, size - edge:size]
            shown = np.take(shown, keep, axis=axis)
    return shown, cut


def _layout(strings: list[str], shape: tuple[int, ...], cut: list[bool],
            indent: int, element_length: int) -> str:
    """Nest the element strings into brackets, wrapping rows at the line width.

    ``indent`` is the column of the opening bracket; each nested level is one
    column further in. Sibling blocks of a k-dim tensor are separated by a
    comma, k - 1 newlines and indent + 1 spaces.
    """
    if not shape:
        return strings[0]
    edge = PRINT_OPTS.edgeitems
    if len(shape) == 1:
        items = strings
        if cut[0]:
            items = strings[:edge] + [" ..."] + strings[edge:]
        per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"

    block = len(strings) // shape[0]
    blocks = [
        _layout(strings[i * block:(i + 1) * block], shape[1:], cut[1:],
                indent + 1, element_length)
        for i in range(shape[0])
    ]
    if cut[0]:
        blocks = blocks[:edge] + ["..."] + blocks[edge:]
    separator = "," + "\n" * (len(shape) - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _tensor_body(data: np.ndarray, indent: int) -> str:
    """The bracketed values of a tensor whose opening bracket sits at column ``indent``."""
    if data.size == 0:
        return "[]"
    summarize = data.size > PRINT_OPTS.threshold
    if summarize and not PRINT_OPTS.edgeitems and data.ndim > 0:
        return "[...]"
    shown, cut = _shown_part(data, summarize)
    strings, element_length = _format_values(shown)
    return _layout(strings, shown.shape, cut, indent, element_length)


# ---------------------------------------------------------------- frame

def _default_dtype_name() -> str:
    """The repr of the default float dtype (``torch.float32`` until ``tapegrad._dtype`` exists)."""
    try:
        from tapegrad._dtype import get_default_dtype
    except ImportError:
        return "torch.float32"
    return repr(get_default_dtype())


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` items and the closing parenthesis, wrapping as torch does.

    A suffix stays on the current line if the line length so far (torch counts
    it as two more than the characters since the last newline) plus the suffix
    and its separator fit in the line width; otherwise it starts a new line
    indented by ``indent``.
    """
    parts = [text]
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t: Any, *, tensor_contents: str | None = None) -> str:
    """Return what torch's ``repr(t)`` / ``str(t)`` prints for the same tensor.

    ``t`` needs ``_data`` (a NumPy array of the values), ``dtype``,
    ``grad_fn`` and ``requires_grad``. ``tensor_contents``, when given,
    replaces the printed values (the suffixes are still computed).
    """
    prefix = "tensor("
    indent = len(prefix)
    data = np.asarray(t._data)
    dtype_name = repr(t.dtype)
    default_name = _default_dtype_name()
    suffixes: list[str] = []

    if data.size == 0:
        # No values to infer the dtype from, so only the default float dtype is implied.
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dtype_name != default_name:
            suffixes.append(f"dtype={dtype_name}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")
        default_complex = "torch.complex128" if default_name == "torch.float64" else "torch.complex64"
        if dtype_name not in (default_name, default_complex, "torch.int64", "torch.bool"):
            suffixes.append(f"dtype={dtype_name}")
        body = _tensor_body(data, indent) if tensor_contents is None else ""
    if tensor_contents is not None:
        body = tensor_contents  # as torch: custom contents, suffixes still computed

    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    if getattr(t, "_fw_grads", None):
        from .autograd.forward_ad import _printed_tangent
        tangent = _printed_tangent(t)
        if tangent is not None:
            suffixes.append(f"tangent={tangent!r}")

    return _add_suffixes(prefix + body, suffixes, indent)
