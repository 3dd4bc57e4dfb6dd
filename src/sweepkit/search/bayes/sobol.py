"""Scrambled Sobol points for the bayes method, without loading a table of 21,201 dimensions.

``scipy.stats.qmc.Sobol`` loads the direction numbers of every dimension it supports (a 3 MB
array, about 15 ms) the first time a process draws, and then spends a third of a millisecond on
each new engine; a bayes claim draws three times, and a new agent process pays the load on its
first claim. :func:`sobol_points` gives the same points bit for bit (checked against SciPy in
``tests/test_bayes_sobol.py``): the same direction numbers (read from SciPy's own file, only the
rows and columns the space's dimension needs), the same linear matrix scramble and random shift
drawn from the same child generator, and the points in the same Gray-code order, in a few array
operations. The unscrambled direction matrix of a dimension is a pure function of it and is kept.

When SciPy's file cannot be read as expected, the points come from ``qmc.Sobol`` itself.
"""

from __future__ import annotations

import math
import zipfile
from importlib import resources

import numpy as np

#: Bits of each coordinate (SciPy's default): points are multiples of 2**-30.
BITS = 30
_SCALE = 1.0 / 2**BITS
_directions: dict[int, tuple[np.ndarray, np.ndarray]] = {}
_table: dict[str, np.ndarray] = {}


def _read_table(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The primitive polynomials of the first ``dim`` dimensions and their initial direction
    numbers (as many columns as their largest degree), from SciPy's packaged file."""
    # (through ``scipy``, not ``scipy.stats``: importing that package takes a third of a second)
    path = resources.files("scipy").joinpath("stats", "_sobol_direction_numbers.npz")
    with resources.as_file(path) as file, zipfile.ZipFile(file) as archive:
        if "poly" not in _table:
            with archive.open("poly.npy") as stream:
                _table["poly"] = np.lib.format.read_array(stream)
        poly = _table["poly"][:dim].astype(np.int64)
        degree = max((int(p).bit_length() - 1 for p in poly.tolist()), default=0)
        with archive.open("vinit.npy") as stream:
            version = np.lib.format.read_magic(stream)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(stream)
            bad = not fortran or len(shape) != 2 or np.dtype(dtype) != np.dtype("<i8")
            if bad or degree > shape[1] or dim > shape[0]:
                raise ValueError("unexpected layout of SciPy's Sobol direction numbers")
            # column-major: each column holds every dimension, so read only the first ``degree``
            raw = stream.read(8 * shape[0] * degree)
        columns = np.frombuffer(raw, dtype="<i8").reshape(degree, shape[0])
    return poly, np.ascontiguousarray(columns[:, :dim].T)


def _direction_bits(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The unscrambled direction numbers, ``dim`` by :data:`BITS` (Bratley and Fox's recurrence
    on Joe and Kuo's numbers, each column shifted to its bit), and their bits, most significant
    first, as a ``dim`` by :data:`BITS` by :data:`BITS` array of 0.0 and 1.0 (for the scramble)."""
    found = _directions.get(dim)
    if found is not None:
        return found
    poly, vinit = _read_table(dim)
    v = np.zeros((dim, BITS), dtype=np.int64)
    if dim:
        v[0, :] = 1
    for d in range(1, dim):
        p = int(poly[d])
        m = p.bit_length() - 1
        row = [int(c) for c in vinit[d, :m]] + [0] * (BITS - m)
        for j in range(m, BITS):
            new = row[j - m]
            for k in range(m):
                if (p >> (m - 1 - k)) & 1:
                    new ^= row[j - k - 1] << (k + 1)
            row[j] = new
        v[d, :] = row
    v <<= _HIGH_FIRST[None, :]
    bits = ((v[:, :, None] >> _HIGH_FIRST[None, None, :]) & 1).astype(np.float64)
    _directions[dim] = (v, bits)
    return v, bits


def _scrambled(dim: int, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The scrambled direction matrix and the random shift, drawn as ``qmc.Sobol`` draws them: from
    a child of ``gen``'s seed sequence, the shift's bits first, then lower-triangular matrices
    (with ones on the diagonal) that multiply each direction number's bits modulo 2."""
    _, bits = _direction_bits(dim)  # first: on failure ``gen`` must not have spawned a child
    bit_generator = gen.bit_generator
    child = np.random.Generator(type(bit_generator)(bit_generator.seed_seq.spawn(1)[0]))
    shift = child.integers(2, size=(dim, BITS), dtype=np.uint32).astype(np.float64) @ _LOW_FIRST_WEIGHTS
    lower = np.tril(child.integers(2, size=(dim, BITS, BITS), dtype=np.uint32)).astype(np.float64)
    lower[:, _DIAGONAL, _DIAGONAL] = 1.0
    # sums of at most BITS products of 0 and 1, and sums of distinct powers of 2 below 2**BITS:
    # exact in floating point
    parity = np.fmod(bits @ lower.transpose(0, 2, 1), 2.0)
    return (parity @ _HIGH_FIRST_WEIGHTS).astype(np.int64), shift.astype(np.int64)


def sobol_points(dim: int, n: int, gen: np.random.Generator) -> np.ndarray:
    """The first ``n`` of ``2**ceil(log2(n))`` scrambled Sobol points in ``dim`` dimensions:
    ``qmc.Sobol(dim, scramble=True, seed=gen).random_base2(m)[:n]``, bit for bit."""
    m = max(0, int(math.ceil(math.log2(max(n, 1)))))
    try:
        sv, shift = _scrambled(dim, gen)
    except (OSError, KeyError, ValueError):  # SciPy's file is not where or what it was
        from scipy.stats import qmc

        return qmc.Sobol(dim, scramble=True, seed=gen).random_base2(m)[:n]
    # Point k is the shift XOR the direction numbers of the bits set in k's Gray code; the Gray
    # codes of 0 .. 2**(c+1)-1 are those of 0 .. 2**c-1, then the same reversed with bit c set.
    quasi = shift[None, :]
    for c in range(m):
        quasi = np.concatenate([quasi, quasi[::-1] ^ sv[:, c]])
    return quasi[:n] * _SCALE


_HIGH_FIRST = np.arange(BITS - 1, -1, -1, dtype=np.int64)
_HIGH_FIRST_WEIGHTS = (1 << _HIGH_FIRST).astype(np.float64)
_LOW_FIRST_WEIGHTS = (1 << np.arange(BITS, dtype=np.int64)).astype(np.float64)
_DIAGONAL = np.arange(BITS)
