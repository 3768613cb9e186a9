"""Data sets with fixed seeds shared by the tests and the DADApy reference script (numpy only)."""

import numpy as np


def embed(points, width, seed):
    """Embed points linearly (orthonormal columns, then an offset) in ``width`` dimensions."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((width, points.shape[1])))[0]
    return points @ basis.T + rng.standard_normal(width)


def hypercube(n, dim, width=768, seed=0):
    """Uniform points in [0, 1]^dim, embedded in ``width`` dimensions."""
    return embed(np.random.default_rng(seed).random((n, dim)), width, seed)


def sphere(n, dim, width=768, seed=0):
    """Uniform points on the unit sphere S^dim (intrinsic dimension ``dim``), embedded."""
    points = np.random.default_rng(seed).standard_normal((n, dim + 1))
    return embed(points / np.linalg.norm(points, axis=1, keepdims=True), width, seed)


def _cube(n, dim, width, seed):
    return lambda: hypercube(n, dim, width, seed)


def _sphere(n, dim, width, seed):
    return lambda: sphere(n, dim, width, seed)


def _gaussian(n, width, seed):
    return lambda: np.random.default_rng(seed).standard_normal((n, width))


REFERENCE_SETS = {
    "cube5_768": _cube(2000, 5, 768, 1),
    "cube12_768": _cube(3000, 12, 768, 2),
    "sphere3_768": _sphere(2000, 3, 768, 3),
    "sphere8_384": _sphere(2500, 8, 384, 4),
    "gaussian_64": _gaussian(1500, 64, 5),
}
