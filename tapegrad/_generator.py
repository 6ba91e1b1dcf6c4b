"""A random generator whose draws are bit-identical to torch's CPU generator.

torch's CPU generator is MT19937 seeded with the reference ``init_genrand``; NumPy's
legacy-seeded ``MT19937`` yields the same stream of 32-bit words.  Every sampler below
consumes words in exactly the order torch's CPU kernels do and turns them into values
with the same arithmetic, down to the rounding of each step, so that
``tapegrad.manual_seed(s); tapegrad.randn(...)`` reproduces ``torch``'s numbers.

This module works on NumPy arrays only (no tapegrad imports); tensors wrap it.

Note [Fused multiply-add]
    torch's CPU kernels are compiled with FMA contraction, so several ``a * b + c``
    in them round once, not twice.  NumPy has no fma ufunc: ``_fma32`` and ``_fma64``
    below compute a correctly rounded ``a * b + c`` from exact float64 / double-double
    pieces.  Each use cites this note.

Note [glibc maths]
    Where torch calls ``std::log`` (and friends) on doubles, the bits come from glibc.
    NumPy's own float64 ``log``/``log1p``/``exp``/``tan`` are SIMD versions that differ from
    glibc in the last bit now and then, so those go through ``math`` (which calls the C
    library).  NumPy's float64 ``sin``/``cos`` do call the C library and are used directly.
"""

import math
import os
import secrets
import struct
import threading

import numpy as np

__all__ = ["Generator", "DEFAULT_SEED", "STATE_SIZE"]

DEFAULT_SEED = 67280421310721  # the seed torch's default CPU generator starts from
STATE_SIZE = 5056  # bytes in torch.get_rng_state()

_N = 624  # MT19937 state words
_U64 = np.uint64
_F32, _F64, _F16 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)
_MASK24 = np.uint32(0xFFFFFF)
_MASK53 = _U64((1 << 53) - 1)
_TWO_PI = 2.0 * math.pi
_TWO_PI_F32 = np.float32(_TWO_PI)

# Layout of torch's CPU generator state (THGeneratorStateNew), little endian.
_HEAD = struct.Struct("<QiiQ")  # initial seed, left, seeded, next
_KEY_OFFSET = _HEAD.size  # 624 words stored as uint64
_NORMAL_OFFSET = _KEY_OFFSET + 8 * _N  # normal_x, normal_y, normal_rho, normal_is_valid
_NORMAL = struct.Struct("<dddi")
_FLOAT_OFFSET = 5048  # next_float_normal_sample, is_valid
_FLOAT = struct.Struct("<f?")


# --------------------------------------------------------------------------- exact helpers

def _fma32(a, b, c):
    """Correctly rounded float32 ``a * b + c`` (Note [Fused multiply-add]).

    ``a * b`` is exact in float64; the float64 sum rounds once more, and rounding that to
    float32 is wrong only when the float64 sum lands exactly halfway between two floats
    while the exact sum does not.  Those rare halfway cases are repaired from the exact
    error of the float64 addition.
    """
    s = np.multiply(a, b, dtype=np.float64)
    s += c
    r = s.astype(np.float32)
    halfway = s.view(_U64) & _U64(0x1FFFFFFF)
    if (halfway == _U64(0x10000000)).any():
        r = _fix_fma32_ties(a, b, c, s, r, halfway == _U64(0x10000000))
    return r


def _fix_fma32_ties(a, b, c, s, r, tie):
    shape = s.shape
    p = np.broadcast_to(np.multiply(a, b, dtype=np.float64), shape)[tie]
    c64 = np.broadcast_to(np.asarray(c, np.float64), shape)[tie]
    s_ = s[tie]
    bb = s_ - p
    err = (p - (s_ - bb)) + (c64 - bb)  # exact sum minus s
    r_ = r[tie]
    below = np.where(r_.astype(np.float64) > s_, np.nextafter(r_, np.float32(-np.inf)), r_)
    above = np.where(r_.astype(np.float64) < s_, np.nextafter(r_, np.float32(np.inf)), r_)
    r = np.array(r, copy=True)
    r[tie] = np.where(err > 0, above, np.where(err < 0, below, r_))
    return r


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = a * 134217729.0  # 2**27 + 1, Veltkamp
    hi = c - (c - a)
    return hi, a - hi


def _fma64(a, b, c):
    """Correctly rounded float64 ``a * b + c`` (Note [Fused multiply-add]).

    Boldo and Melquiond's emulation: exact product and sum, then the low parts are
    added with round-to-odd before the one final round-to-nearest.
    """
    a, b, c = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                  np.asarray(c, np.float64))
    ph = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl
    th, tl = _two_sum(c, ph)
    v, e = _two_sum(tl, pl)
    even = (v.view(np.int64) & 1) == 0
    bump = (e != 0) & even & (v != 0)
    if bump.any():
        v = np.where(bump, np.nextafter(v, np.where(e > 0, np.inf, -np.inf)), v)
    return th + v


def _libm(fn, x):
    """Apply a ``math`` function elementwise, for glibc's exact bits (Note [glibc maths])."""
    x = np.asarray(x, np.float64)
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


def _shape_of(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


# ---------------------------------------------------- torch's AVX2 float32 Box-Muller
# torch's ``normal_fill_16_AVX2`` computes, per pair, ``radius = sqrt(-2 * log(u1))`` with the
# cephes ``logf`` polynomial and ``cos``/``sin`` of ``theta = 2 * pi * u2`` with the cephes
# ``sincosf`` polynomials, all in float32 with fused multiply-adds.
#
# Note [Exact float32 fma in float64]
#     Each fma below is computed as ``a * b + c`` in float64 and then rounded to float32.  The
#     product of two floats is exact in float64; for the operands met here (``u1`` and ``u2``
#     are multiples of 2**-24) the float64 sum is exact too, or, where it is not, the rounding
#     cannot land on a float32 halfway point, so the one rounding to float32 is the fused
#     result.  This was checked exhaustively: the radius depends only on the 24 bits drawn
#     for ``u1`` and the signed cosine and sine only on those drawn for ``u2``, and all 2**24
#     inputs of each match a correctly rounded fma emulation (``_fma32``); the test lives in
#     tests/test_random_api.py.  Products by a power of two or by constants with few bits
#     (``_DP1``, ``_DP2``, ``_LOG_Q2``, ``0.5``) are exact in float32, so a contracted fma
#     there rounds like the separate operations and plain float32 arithmetic is used.

_LOG_P = tuple(np.float32(v) for v in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1))
_LOG_P64 = tuple(float(p) for p in _LOG_P)
_LOG_Q1 = np.float32(-2.12194440e-4)
_LOG_Q2 = np.float32(0.693359375)
_SQRTHF_BITS = 0x3F3504F3  # float32 sqrt(1/2), cephes' split of the mantissa
# bits(u1) - bits(sqrt(1/2)) from bits(2**24 * u1): the 24 removes the scaling by 2**24
_LOG_BIAS = np.int32((24 << 23) + _SQRTHF_BITS)
_FOPI = np.float32(1.27323954473516)
_DP1, _DP2, _DP3 = (np.float32(v) for v in (
    -0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8))
_COS_P = tuple(np.float32(v) for v in (
    2.443315711809948e-005, -1.388731625493765e-003, 4.166664568298827e-002))
_SIN_P = tuple(np.float32(v) for v in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1))
_THETA_STEP = np.float32(_TWO_PI_F32 * np.float32(2.0 ** -24))  # exact: a power of two apart
_SIGN = np.int32(-0x80000000)
_BLOCKS_PER_CHUNK = 4096  # 16-value blocks per step of the float32 transform
_FAST_LOG_MIN = 1 << 10  # pairs from which the table-patched logarithm pays for its setup
_PARALLEL_MIN = 1 << 20  # values from which the float32 transform uses several threads
_DRAW_STEP = 1 << 18  # words drawn at a time while other threads transform


class _Scratch:
    """Work buffers for ``_box_muller_f32`` on up to ``m`` pairs."""

    __slots__ = ("i", "f", "d", "b")

    def __init__(self, m):
        self.i = [np.empty(m, np.int32) for _ in range(4)]
        self.f = [np.empty(m, np.float32) for _ in range(7)]
        self.d = [np.empty(m, np.float64) for _ in range(2)]
        self.b = np.empty(m, np.bool_)


def _log_radius_f32(k, s, out):
    """``sqrt(-2 * log256_ps(1 - (k & 0xFFFFFF) * 2**-24))`` into ``out``; ``k`` (int32) is
    overwritten.  The logarithm is cephes ``logf`` as torch compiles it."""
    m = k.size
    ix, ei = k, s.i[0][:m]
    x, e, y, z, tmp = (b[:m] for b in s.f[:5])
    x64, t = (b[:m] for b in s.d)
    np.bitwise_and(k, 0xFFFFFF, out=k)
    np.subtract(1 << 24, k, out=k)
    np.copyto(x, k, casting="unsafe")  # 2**24 * u1, exact
    xi = x.view(np.int32)
    np.subtract(xi, _LOG_BIAS, out=ix)
    np.right_shift(ix, 23, out=ei)  # cephes' exponent, already lowered where mantissa < sqrt(1/2)
    np.copyto(e, ei, casting="unsafe")
    np.bitwise_and(ix, 0x7FFFFF, out=ix)
    np.add(ix, _SQRTHF_BITS, out=xi)  # mantissa in [sqrt(1/2), sqrt(2)): cephes' x + 1
    np.subtract(x, np.float32(1.0), out=x)  # exact
    np.copyto(x64, x)
    np.multiply(x64, _LOG_P64[0], out=t)  # Horner, one fma per step (Note [Exact float32 fma ...])
    np.add(t, _LOG_P64[1], out=t)
    np.copyto(y, t, casting="same_kind")
    for p in _LOG_P64[2:]:
        np.multiply(y, x64, out=t)
        np.add(t, p, out=t)
        np.copyto(y, t, casting="same_kind")
    np.multiply(y, x, out=y)
    np.multiply(x, x, out=z)
    np.multiply(y, z, out=t, dtype=np.float64)
    np.multiply(e, _LOG_Q1, out=tmp)
    np.add(t, tmp, out=t)  # fma(y, z, e * q1)
    np.copyto(y, t, casting="same_kind")
    np.multiply(z, np.float32(0.5), out=z)
    np.subtract(y, z, out=y)
    np.add(x, y, out=x)
    np.multiply(e, _LOG_Q2, out=e)
    np.add(x, e, out=x)
    np.multiply(x, np.float32(-2.0), out=x)
    np.sqrt(x, out=out)
    return out


# Note [Unfused logarithm]
#     For all but 11137 of the 2**24 possible ``u1``, rounding every product and sum of the
#     logarithm to float32 separately (plain float32 arithmetic, no fma) gives the same radius
#     as torch's fused code.  Those inputs are listed in ``_generator_tables`` (found by trying
#     all 2**24, ``python3 -m tapegrad._generator_tables`` redoes it); the fast path looks each
#     ``u1`` up in a bitmap of them and patches the few hits with their exact radius.

def _log_radius_f32_unfused(k, s, out):
    """``_log_radius_f32`` for masked ``k`` with plain float32 arithmetic: differs from it
    exactly on the inputs of Note [Unfused logarithm].  ``k`` is overwritten."""
    m = k.size
    ix, ei = k, s.i[0][:m]
    x, e, y, z, tmp = (b[:m] for b in s.f[:5])
    np.subtract(1 << 24, k, out=k)
    np.copyto(x, k, casting="unsafe")
    xi = x.view(np.int32)
    np.subtract(xi, _LOG_BIAS, out=ix)
    np.right_shift(ix, 23, out=ei)
    np.copyto(e, ei, casting="unsafe")
    np.bitwise_and(ix, 0x7FFFFF, out=ix)
    np.add(ix, _SQRTHF_BITS, out=xi)
    np.subtract(x, np.float32(1.0), out=x)
    np.multiply(x, _LOG_P[0], out=y)
    np.add(y, _LOG_P[1], out=y)
    for p in _LOG_P[2:]:
        np.multiply(y, x, out=y)
        np.add(y, p, out=y)
    np.multiply(y, x, out=y)
    np.multiply(x, x, out=z)
    np.multiply(y, z, out=y)
    np.multiply(e, _LOG_Q1, out=tmp)
    np.add(y, tmp, out=y)
    np.multiply(z, np.float32(0.5), out=z)
    np.subtract(y, z, out=y)
    np.add(x, y, out=x)
    np.multiply(e, _LOG_Q2, out=e)
    np.add(x, e, out=x)
    np.multiply(x, np.float32(-2.0), out=x)
    np.sqrt(x, out=out)
    return out


_LOG_EXCEPTIONS = None  # (sorted inputs, bitmap of them, their exact radii), built on first use


def _log_exceptions():
    global _LOG_EXCEPTIONS
    if _LOG_EXCEPTIONS is None:
        keys = _load_tables().log_radius_exceptions()
        bitmap = np.zeros(1 << 19, np.uint32)
        np.bitwise_or.at(bitmap, keys >> 5, np.left_shift(np.uint32(1), (keys & 31).astype(np.uint32)))
        values = _log_radius_f32(keys.copy(), _Scratch(keys.size), np.empty(keys.size, np.float32))
        _LOG_EXCEPTIONS = keys, bitmap.view(np.int32), values
    return _LOG_EXCEPTIONS


def _load_tables():
    try:
        from . import _generator_tables
        return _generator_tables
    except ImportError:  # this file was loaded by path, outside the package
        import importlib.util
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_generator_tables.py")
        spec = importlib.util.spec_from_file_location("_generator_tables", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def _log_radius_f32_fast(k, s, out):
    """``_log_radius_f32`` in plain float32 plus a table of patches (Note [Unfused logarithm])."""
    m = k.size
    keys, bitmap, values = _log_exceptions()
    np.bitwise_and(k, 0xFFFFFF, out=k)
    w, flag = s.i[1][:m], s.b[:m]
    np.right_shift(k, 5, out=w)
    np.take(bitmap, w, out=w, mode="wrap")  # indices are in range; "wrap" avoids a buffered copy
    np.not_equal(w, 0, out=flag)
    where = np.flatnonzero(flag)  # about 2% of values share a bitmap word with an exception
    kw = k[where]
    hit = ((w[where] >> (kw & 31)) & 1).astype(np.bool_)
    where, kw = where[hit], kw[hit]
    _log_radius_f32_unfused(k, s, out)
    out[where] = values[np.searchsorted(keys, kw)]
    return out


def _cos_sin_f32(k, s, cos_out, sin_out):
    """Signed cos and sin of ``theta = 2 * pi * (k & 0xFFFFFF) * 2**-24`` (float32) as torch's
    ``sincos256_ps`` (cephes) computes them; ``k`` (int32) is overwritten."""
    m = k.size
    j, sign, d = k, s.i[1][:m], s.i[0][:m]
    theta, y, x, z, c, sn = (b[:m] for b in s.f[:6])
    z64, t = (b[:m] for b in s.d)
    np.bitwise_and(k, 0xFFFFFF, out=k)
    np.copyto(theta, k, casting="unsafe")
    np.multiply(theta, _THETA_STEP, out=theta)
    np.multiply(theta, _FOPI, out=x)
    np.copyto(j, x, casting="unsafe")  # truncation, theta >= 0
    np.add(j, 1, out=j)
    np.bitwise_and(j, ~1, out=j)  # octant j in {0, 2, 4, 6, 8}
    np.copyto(y, j, casting="unsafe")
    np.multiply(y, _DP1, out=x)  # exact products: theta - j * pi / 4 in three parts
    np.add(theta, x, out=x)
    np.multiply(y, _DP2, out=c)
    np.add(x, c, out=x)
    np.multiply(y, _DP3, out=t, dtype=np.float64)
    np.add(t, x, out=t)
    np.copyto(x, t, casting="same_kind")
    np.multiply(x, x, out=z)
    np.copyto(z64, z)
    for poly, res in ((_COS_P, c), (_SIN_P, sn)):
        np.multiply(z64, float(poly[0]), out=t)
        np.add(t, float(poly[1]), out=t)
        np.copyto(res, t, casting="same_kind")
        np.multiply(res, z64, out=t)
        np.add(t, float(poly[2]), out=t)
        np.copyto(res, t, casting="same_kind")
        np.multiply(res, z, out=res)
    np.multiply(c, z, out=t, dtype=np.float64)
    np.multiply(z, np.float32(0.5), out=y)
    np.subtract(t, y, out=t)  # fma(c, z, -z / 2)
    np.copyto(c, t, casting="same_kind")
    np.add(c, np.float32(1.0), out=c)
    np.multiply(sn, x, out=t, dtype=np.float64)
    np.add(t, x, out=t)  # fma(s, x, x)
    np.copyto(sn, t, casting="same_kind")
    # octants 2 and 6 swap the two polynomials; cos < 0 in octants 2, 4, sin < 0 in 4, 6
    ci, si = c.view(np.int32), sn.view(np.int32)
    np.left_shift(j, 30, out=sign)
    np.right_shift(sign, 31, out=sign)  # all ones where j & 2
    np.bitwise_xor(ci, si, out=d)
    np.bitwise_and(d, sign, out=d)
    np.left_shift(j, 29, out=sign)
    np.bitwise_and(sign, _SIGN, out=sign)
    np.bitwise_xor(si, sign, out=si)
    np.bitwise_xor(si, d, out=sin_out.view(np.int32))
    np.add(j, 2, out=sign)
    np.left_shift(sign, 29, out=sign)
    np.bitwise_and(sign, _SIGN, out=sign)
    np.bitwise_xor(ci, sign, out=ci)
    np.bitwise_xor(ci, d, out=cos_out.view(np.int32))


def _box_muller_f32(blocks, s):
    """``normal_fill_16_AVX2`` in place over rows of 16 raw words (uint32, shape (b, 16)):
    each row becomes its 16 float32 normals."""
    m = 8 * blocks.shape[0]
    halves = blocks.view("V32")  # one 8-word half per item: u1 words, then u2 words
    k1, k2 = s.i[2][:m], s.i[3][:m]
    np.copyto(k1.view("V32"), halves[:, 0])
    np.copyto(k2.view("V32"), halves[:, 1])
    radius, c, sn = s.f[6][:m], k1.view(np.float32), s.f[5][:m]
    (_log_radius_f32_fast if m >= _FAST_LOG_MIN else _log_radius_f32)(k1, s, radius)
    _cos_sin_f32(k2, s, c, sn)  # c reuses k1's memory, sn is the sine's own work buffer
    np.multiply(c, radius, out=c)
    np.multiply(sn, radius, out=sn)
    np.copyto(halves[:, 0], c.view("V32"))
    np.copyto(halves[:, 1], sn.view("V32"))


def _box_muller_f32_range(rows, start, stop, s=None):
    step = _BLOCKS_PER_CHUNK
    s = s or _Scratch(8 * min(step, stop - start))
    for b in range(start, stop, step):
        _box_muller_f32(rows[b:min(b + step, stop)], s)


def _worker_count(n):
    if n < _PARALLEL_MIN:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _normal_words_f32(draw, n):
    """``n`` words from ``draw(count)`` with every whole block of 16 turned into float32
    normals in place (the last ``n % 16`` words are left as drawn).

    For large ``n`` other threads transform blocks while this one is still drawing the
    later words (NumPy releases the GIL in its loops and while drawing).
    """
    blocks = n // 16
    workers = _worker_count(n)
    if workers == 1:
        words = draw(n)
        _box_muller_f32_range(words[:16 * blocks].reshape(blocks, 16), 0, blocks)
        return words
    words = np.empty(n, np.uint32)
    rows = words[:16 * blocks].reshape(blocks, 16)
    step = _BLOCKS_PER_CHUNK
    chunks = -(-blocks // step)
    cond = threading.Condition()
    progress = {"drawn": 0, "claimed": 0}  # blocks drawn so far, chunks handed out
    errors = []

    def transform():
        s = _Scratch(8 * step)
        try:
            while True:
                with cond:
                    c = progress["claimed"]
                    if c >= chunks:
                        return
                    progress["claimed"] = c + 1
                    stop = min((c + 1) * step, blocks)
                    while progress["drawn"] < stop:
                        cond.wait()
                _box_muller_f32(rows[c * step:stop], s)
        except BaseException as exc:  # re-raised by the drawing thread
            errors.append(exc)

    threads = [threading.Thread(target=transform, daemon=True) for _ in range(workers - 1)]
    for t in threads:
        t.start()
    try:
        for start in range(0, n, _DRAW_STEP):
            stop = min(start + _DRAW_STEP, n)
            words[start:stop] = draw(stop - start)
            with cond:
                progress["drawn"] = stop // 16
                cond.notify_all()
    finally:
        with cond:  # never leave a worker waiting for words
            progress["drawn"] = blocks
            cond.notify_all()
    transform()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return words


# ----------------------------------------------------------------------------- generator

class Generator:
    """torch's CPU generator (``torch.Generator()``) drawing into NumPy arrays.

    Each sampler advances the state exactly as the matching torch CPU kernel does, so
    mixed sequences of calls stay in step with torch.  Shapes are filled in C order
    (torch fills a fresh contiguous tensor in memory order).
    """

    __slots__ = ("_bits", "_words_of", "_seed", "_fresh", "_next_double", "_next_float")

    def __init__(self, seed=DEFAULT_SEED):
        self._bits = np.random.MT19937()
        self._words_of = np.random.RandomState(self._bits)
        self.manual_seed(seed)

    # ------------------------------------------------------------------- seeding / state

    def manual_seed(self, seed):
        """Seed as ``torch.Generator.manual_seed``: any int in [-2**63, 2**64)."""
        seed = int(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise RuntimeError("Overflow when unpacking long long")
        seed &= (1 << 64) - 1  # negative seeds wrap, as torch's uint64 does
        self._seed = seed
        self._bits._legacy_seeding(seed & 0xFFFFFFFF)  # init_genrand takes the low word
        self._fresh = True
        self._next_double = None  # cached second Box-Muller value, as torch keeps
        self._next_float = None
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        """Reseed from the operating system's entropy and return the new seed."""
        s = secrets.randbits(64)
        self.manual_seed(s)
        return s

    def get_state(self):
        """The state as a uint8 array in torch's ``get_rng_state()`` byte layout."""
        st = self._bits.state["state"]
        pos = int(st["pos"])
        left = _N + 1 - pos
        nxt = 0 if self._fresh else pos
        buf = bytearray(STATE_SIZE)
        _HEAD.pack_into(buf, 0, self._seed, left, 1, nxt)
        buf[_KEY_OFFSET:_NORMAL_OFFSET] = np.asarray(st["key"], "<u8").tobytes()
        valid = self._next_double is not None
        _NORMAL.pack_into(buf, _NORMAL_OFFSET, 0.0, self._next_double if valid else 0.0, 0.0,
                          int(valid))
        fvalid = self._next_float is not None
        _FLOAT.pack_into(buf, _FLOAT_OFFSET, self._next_float if fvalid else 0.0, fvalid)
        return np.frombuffer(bytes(buf), np.uint8).copy()

    def set_state(self, state):
        """Restore a state from ``get_state`` (or from torch's ``get_rng_state()``)."""
        buf = np.ascontiguousarray(state).view(np.uint8).tobytes()
        if len(buf) != STATE_SIZE:
            raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a "
                               f"THGeneratorStateNew of size {STATE_SIZE} but found the "
                               f"input RNG state size to be {len(buf)}")
        seed, left, _, nxt = _HEAD.unpack_from(buf, 0)
        if not 1 <= left <= _N:
            raise RuntimeError(f"The input RNG state is invalid: left={left}")
        key = np.frombuffer(buf, "<u8", _N, _KEY_OFFSET).astype(np.uint32)
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": key, "pos": _N + 1 - left}}
        self._seed = seed
        self._fresh = left == 1 and nxt == 0
        _, normal_y, _, valid = _NORMAL.unpack_from(buf, _NORMAL_OFFSET)
        self._next_double = normal_y if valid else None
        fval, fvalid = _FLOAT.unpack_from(buf, _FLOAT_OFFSET)
        self._next_float = fval if fvalid else None

    # ------------------------------------------------------------------------ raw words

    def _words(self, n):
        """The next ``n`` 32-bit outputs, in order (torch's ``random()``)."""
        if n <= 0:
            return np.empty(0, np.uint32)
        self._fresh = False
        return self._words_of.randint(0, 1 << 32, size=n, dtype=np.uint32)

    def _words64(self, n):
        """The next ``n`` 64-bit values from word pairs, first word high (``random64()``)."""
        w = self._words(2 * n).view(_U64)  # little endian: the first word sits low
        return (w << _U64(32)) | (w >> _U64(32))

    def _unit_float32(self, n):
        return (self._words(n) & _MASK24).view(np.int32).astype(np.float32) * np.float32(2.0 ** -24)

    def _unit_float64(self, n):
        return (self._words64(n) & _MASK53).astype(np.float64) * 2.0 ** -53

    # -------------------------------------------------------------------------- uniform

    def uniform(self, shape, dtype=np.float32, low=0.0, high=1.0):
        """``torch.rand`` / ``Tensor.uniform_(from, to)``.

        float32 and float16 use one word per value (24 random bits, float16 rounds the
        float32 value), float64 two words (53 bits).  Scaling is ``x * (to - from) + from``
        with one rounding (Note [Fused multiply-add]); a value that rounds to ``to`` is
        replaced by ``from``, as torch does.
        """
        shape, dtype = _shape_of(shape), np.dtype(dtype)
        n = math.prod(shape)
        if dtype == _F64:
            lo, hi = float(low), float(high)
            x = self._unit_float64(n)
            if lo != 0.0 or hi != 1.0:
                x = _fma64(x, hi - lo, lo)
        elif dtype in (_F32, _F16):
            lo, hi = np.float32(dtype.type(low)), np.float32(dtype.type(high))
            x = self._unit_float32(n)
            if lo != 0.0 or hi != 1.0:
                x = _fma32(x, np.float32(dtype.type(hi - lo)), lo)
            x = x.astype(dtype, copy=False)
        else:
            raise TypeError(f"uniform: unsupported dtype {dtype}")
        x[x == dtype.type(hi)] = dtype.type(lo)  # torch never returns `to`: it maps to `from`
        return x.reshape(shape)

    # --------------------------------------------------------------------------- normal

    def _standard_normal_double(self):
        """torch's ``normal_distribution<double>``: Box-Muller, the sine kept for next time."""
        if self._next_double is not None:
            v, self._next_double = self._next_double, None
            return v
        u1, u2 = self._unit_float64(2).tolist()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = _TWO_PI * u1
        self._next_double = r * math.sin(theta)
        return r * math.cos(theta)

    def _normal_serial(self, n, dtype, mean, std):
        z = np.array([self._standard_normal_double() for _ in range(n)], np.float64)
        if mean != 0.0 or std != 1.0:
            z = _fma64(z, float(std), float(mean))
        return z.astype(dtype)

    def normal(self, shape, dtype=np.float32, mean=0.0, std=1.0):
        """``torch.randn`` / ``Tensor.normal_(mean, std)``.

        Fewer than 16 values: one Box-Muller pair per two values from two float64
        uniforms, with torch's cached second value (shared by all dtypes, cleared by
        ``manual_seed``).  16 or more: torch's ``normal_fill`` -- uniforms of the dtype
        for every value, then Box-Muller over blocks of 16 (``data[i]`` and
        ``data[i + 8]`` as a pair), and when the size is not a multiple of 16 the last
        16 values are redone from 16 fresh uniforms.
        """
        shape, dtype = _shape_of(shape), np.dtype(dtype)
        n = math.prod(shape)
        if dtype not in (_F32, _F64, _F16):
            raise TypeError(f"normal: unsupported dtype {dtype}")
        if n < 16:
            return self._normal_serial(n, dtype, mean, std).reshape(shape)
        if dtype == _F32:
            out = self._normal_fill_float32(n)
            if mean != 0.0 or std != 1.0:
                out = _fma32(out, np.float32(std), np.float32(mean))
        elif dtype == _F64:
            out = self._normal_fill_float64(n)
            if mean != 0.0 or std != 1.0:
                out = _fma64(out, float(std), float(mean))
        else:
            out = self._normal_fill_float16(n, mean, std)
        return out.reshape(shape)

    def _normal_fill_float32(self, n):
        words = _normal_words_f32(self._words, n)
        if n % 16:  # torch redoes the last 16 values from 16 more words
            tail = self._words(16)
            _box_muller_f32_range(tail.reshape(1, 16), 0, 1)
            words[n - 16:] = tail
        return words.view(np.float32)

    def _box_muller_float64(self, u):
        """``normal_fill_16`` for doubles over rows of 16 uniforms (glibc log)."""
        radius = np.sqrt(-2.0 * _libm(math.log, 1.0 - u[:, :8]))
        theta = _TWO_PI * u[:, 8:]
        return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1)

    def _normal_fill_float64(self, n):
        u = self._unit_float64(n)
        tail = self._unit_float64(16) if n % 16 else None
        blocks = n // 16
        out = np.empty(n, np.float64)
        out[:16 * blocks] = self._box_muller_float64(u[:16 * blocks].reshape(blocks, 16)).ravel()
        if tail is not None:
            out[n - 16:] = self._box_muller_float64(tail.reshape(1, 16)).ravel()
        return out

    def _normal_fill_float16(self, n, mean, std):
        """float16 ``normal_fill``: float32 uniforms and arithmetic, rounded at the end.

        Not bit-identical to torch 2.13, which vectorises this path with its own float
        maths and a different tail; see the module's known gaps in the report.
        """
        u = self._unit_float32(n)
        tail = self._unit_float32(16) if n % 16 else None

        def fill(rows):
            radius = np.sqrt(np.float32(-2.0) * _libm(math.log, np.float32(1.0) - rows[:, :8])
                             .astype(np.float32))
            theta = (_TWO_PI * rows[:, 8:].astype(np.float64)).astype(np.float32)
            cos = _libm(math.cos, theta).astype(np.float32)
            sin = _libm(math.sin, theta).astype(np.float32)
            return np.concatenate([radius * cos, radius * sin], axis=1)

        blocks = n // 16
        out = np.empty(n, np.float32)
        out[:16 * blocks] = fill(u[:16 * blocks].reshape(blocks, 16)).ravel()
        if tail is not None:
            out[n - 16:] = fill(tail.reshape(1, 16)).ravel()
        if mean != 0.0 or std != 1.0:
            out = _fma32(out, np.float32(np.float16(std)), np.float32(np.float16(mean)))
        return out.astype(np.float16)

    def normal_tensor_params(self, mean, std, dtype=None):
        """``torch.normal(mean, std)`` where either or both are arrays.

        torch draws standard normals of the broadcast shape, then (array std)
        ``out * std + mean`` as two rounded steps, or (scalar std) ``normal_(0, std)``
        followed by ``+ mean``.
        """
        mean_is_array = isinstance(mean, np.ndarray)
        std_is_array = isinstance(std, np.ndarray)
        if dtype is None:
            dtype = (mean if mean_is_array else std).dtype
        dtype = np.dtype(dtype)
        shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
        if std_is_array:
            if (np.asarray(std) < 0).any():
                raise RuntimeError("normal expects all elements of std >= 0.0")
            out = self.normal(shape, dtype)
            out = out * np.asarray(std, dtype)
            return (out + np.asarray(mean, dtype)).astype(dtype)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        out = self.normal(shape, dtype, 0.0, float(std))
        return (out + np.asarray(mean, dtype)).astype(dtype)

    # ------------------------------------------------------------------------- integers

    def randint(self, low, high, shape, dtype=np.int64):
        """``torch.randint(low, high, shape)`` / ``random_(from, to)``.

        A span below 2**28 takes one word per value (``word % span + low``), a wider one a
        64-bit value from two words (torch 2.13's threshold, checked against it).
        """
        shape, dtype = _shape_of(shape), np.dtype(dtype)
        low, high = int(low), int(high)
        if high <= low:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', "
                               f"but got from={low} >= to={high}")
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            if not info.min <= low <= info.max:
                raise RuntimeError(f"from is out of bounds for {dtype.name}")
            if not info.min <= high - 1 <= info.max:
                raise RuntimeError(f"to - 1 is out of bounds for {dtype.name}")
        return self._from_to(low, high - low, math.prod(shape), dtype).reshape(shape)

    def _from_to(self, base, span, n, dtype):
        if span < (1 << 28):
            v = (self._words(n) % np.uint32(span)).astype(np.int64) + base
        elif span < (1 << 64):
            v = (self._words64(n) % _U64(span)).view(np.int64) + np.int64(base)
        else:  # the full int64 range: the 64-bit value itself
            v = self._words64(n).view(np.int64)
        return _cast_integers(v, dtype)

    def random(self, shape, dtype=np.int64):
        """``Tensor.random_()`` with no bounds: [0, 2**mantissa] for floats, [0, max] for ints."""
        shape, dtype = _shape_of(shape), np.dtype(dtype)
        n = math.prod(shape)
        if dtype == np.bool_:
            return (self._words(n) & 1).astype(np.bool_).reshape(shape)
        if dtype == _F64:
            return (self._words64(n) % _U64((1 << 53) + 1)).astype(np.float64).reshape(shape)
        if dtype in (_F32, _F16):
            digits = 24 if dtype == _F32 else 11
            v = self._words(n).astype(np.int64) % ((1 << digits) + 1)
            return v.astype(dtype).reshape(shape)
        if dtype == np.int64:
            return (self._words64(n) % _U64(1 << 63)).view(np.int64).reshape(shape)
        if dtype.kind in "iu":
            top = int(np.iinfo(dtype).max) + 1
            return (self._words(n).astype(np.int64) % top).astype(dtype).reshape(shape)
        raise TypeError(f"random: unsupported dtype {dtype}")

    def randperm(self, n, dtype=np.int64):
        """``torch.randperm(n)``: forward Fisher-Yates, swap ``i`` with ``i + word % (n - i)``.

        (torch switches to a 64-bit inside-out shuffle from n >= 2**32 / 20, which is
        followed here too.)
        """
        n = int(n)
        if n < 0:
            raise RuntimeError(f"randperm: n must be non-negative, got {n}")
        if n < 0xFFFFFFFF // 20:
            perm = list(range(n))
            if n > 1:
                offsets = (self._words(n - 1) % np.arange(n, 1, -1, dtype=np.uint32)).tolist()
                for i, z in enumerate(offsets):
                    j = i + z
                    perm[i], perm[j] = perm[j], perm[i]
            return np.array(perm, dtype=dtype)
        perm = np.empty(n, np.int64)
        picks = self._words64(n)
        for i in range(n):  # inside-out shuffle; only reached for gigantic n
            z = int(picks[i]) % (i + 1)
            perm[i] = perm[z]
            perm[z] = i
        return perm.astype(dtype)

    # ---------------------------------------------------------------------- bernoulli

    def bernoulli(self, p, shape=None, dtype=None):
        """``torch.bernoulli(p)`` for an array ``p``, ``bernoulli_(p)`` for a float ``p``.

        An array ``p`` of float32/float16 takes one 24-bit uniform per value, float64 a
        53-bit one; a float ``p`` takes a 53-bit uniform per value.  A value is 1 when the
        uniform is below its probability.  (On Intel CPUs torch's ``bernoulli_(float)``
        uses MKL's own stream instead; this follows the non-MKL path torch takes elsewhere.)
        """
        if isinstance(p, np.ndarray):
            shape = p.shape if shape is None else _shape_of(shape)
            dtype = p.dtype if dtype is None else np.dtype(dtype)
            probs = np.broadcast_to(p, shape)
            if ((probs < 0) | (probs > 1)).any():
                raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true")
            n = math.prod(shape)
            if p.dtype == _F64:
                u = self._unit_float64(n).reshape(shape)
                return (u < probs).astype(dtype)
            u = self._unit_float32(n).reshape(shape)
            return (u < probs.astype(np.float32)).astype(dtype)
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        shape = _shape_of(shape)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        u = self._unit_float64(math.prod(shape)).reshape(shape)
        return (u < p).astype(dtype)

    # -------------------------------------------------------------------- multinomial

    def multinomial(self, probs, num_samples, replacement=False):
        """``torch.multinomial`` for 1-D or 2-D weights (rows are distributions).

        Without replacement, or for one sample, torch takes the exponential race:
        ``argmax`` / ``topk`` of ``probs / q`` with ``q`` from ``exponential_(1)``.  With
        replacement, per row: the normalised running sum of the weights, then for each
        sample a 53-bit uniform and the first bucket whose cumulative value is not below it.
        """
        probs = np.asarray(probs)
        if probs.ndim not in (1, 2):
            raise RuntimeError("prob_dist must be 1 or 2 dim")
        rows = probs.reshape(-1, probs.shape[-1])
        n_cat = rows.shape[1]
        num_samples = int(num_samples)
        if num_samples <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        if not replacement and num_samples > n_cat:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        if (rows < 0).any() or not np.isfinite(rows).all():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (rows.sum(axis=1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement or num_samples == 1:
            q = self.exponential(rows.shape, rows.dtype, 1.0)
            race = rows / q
            # stable sort of the negated keys == topk's order for distinct keys
            out = np.argsort(-race, axis=1, kind="stable")[:, :num_samples]
        else:
            out = np.empty((rows.shape[0], num_samples), np.int64)
            for r, row in enumerate(rows):
                cum = np.cumsum(row, dtype=row.dtype)  # sequential, like torch's loop
                cum = cum / cum[-1]
                cum[-1] = 1
                u = self._unit_float64(num_samples)
                out[r] = np.searchsorted(cum.astype(np.float64), u, side="left")
        return out.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))

    # ------------------------------------------------------- other distributions (serial)
    # torch runs these through a per-value double-precision transformation of a 53-bit
    # uniform (or of its cached Box-Muller normal), then casts to the dtype.

    def _serial(self, shape, dtype, transform):
        shape, dtype = _shape_of(shape), np.dtype(dtype)
        u = self._unit_float64(math.prod(shape))
        return transform(u).astype(dtype).reshape(shape)

    def exponential(self, shape, dtype=np.float32, lambd=1.0):
        """``exponential_(lambd)``: ``-1 / lambd * log1p(-u)``."""
        lambd = float(lambd)
        return self._serial(shape, dtype, lambda u: (-1.0 / lambd) * _libm(math.log1p, -u))

    def geometric(self, shape, dtype=np.float32, p=0.5):
        """``geometric_(p)``: ``ceil(log(u) / log1p(-p))``."""
        p = float(p)
        if not 0.0 < p < 1.0:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        denom = math.log1p(-p)
        return self._serial(shape, dtype, lambda u: np.ceil(_libm(math.log, u) / denom))

    def cauchy(self, shape, dtype=np.float32, median=0.0, sigma=1.0):
        """``cauchy_(median, sigma)``: ``median + sigma * tan(pi * (u - 0.5))``."""
        median, sigma = float(median), float(sigma)
        return self._serial(shape, dtype, lambda u: _fma64(
            sigma, _libm(math.tan, math.pi * (u - 0.5)), median))

    def log_normal(self, shape, dtype=np.float32, mean=1.0, std=2.0):
        """``log_normal_(mean, std)``: ``exp`` of torch's serial Box-Muller normal."""
        shape, dtype = _shape_of(shape), np.dtype(dtype)
        z = np.array([self._standard_normal_double() for _ in range(math.prod(shape))])
        z = _fma64(z, float(std), float(mean))
        return _libm(math.exp, z).astype(dtype).reshape(shape)


def _cast_integers(v, dtype):
    """C++ ``static_cast`` from int64: integers wrap, floats round."""
    if dtype == np.bool_:
        return v != 0
    return v.astype(dtype)
