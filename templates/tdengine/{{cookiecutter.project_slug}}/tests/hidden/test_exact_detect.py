"""Instructor tests (hidden from students): the scorer's pieces, value for value and at the edges.

Self-contained (no conftest fixtures): the grader runs them from outside the student's tests/.
"""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.detect import MAD_TO_SIGMA, robust_z, stuck_mask


def reference_robust_z(x: np.ndarray, window: int) -> np.ndarray:
    """Plain loops: centred median (edges padded with the edge value), MAD-based sigma."""
    half = window // 2
    padded = np.concatenate([np.full(half, x[0]), x, np.full(half, x[-1])])
    med = np.array([np.median(padded[i : i + window]) for i in range(x.shape[0])])
    residual = x - med
    scale = MAD_TO_SIGMA * np.median(np.abs(residual - np.median(residual)))
    scale = max(scale, 1e-9 * max(1.0, float(np.max(np.abs(x)))))
    z: np.ndarray = np.abs(residual) / scale
    return z


def test_robust_z_exact_values_and_edges():
    # by hand: window 3 gives medians [0,0,1,0,1,0,0], residuals [0,1,-1,1,-1,1,0], MAD 1
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    assert np.allclose(robust_z(x, 3), np.array([0, 1, 1, 1, 1, 1, 0]) / MAD_TO_SIGMA, rtol=1e-12)
    # the residuals' median is 0.5 here, not 0: the MAD is taken around it (1.0; median |r| is 1.5)
    x = np.array([1.0, 8.0, 8.0, 0.0, 6.0, 5.0, 2.0, 2.0])  # medians [1, 1, 6, 6, 5, 2, 2, 2]
    expected = np.array([0, 7, 2, 6, 1, 3, 0, 0]) / MAD_TO_SIGMA
    assert np.allclose(robust_z(x, 5), expected, rtol=1e-12)
    # MAD 0: the scale floor 1e-9 * max(1, max|x|) applies, no nan and no inf
    spike = np.zeros(9)
    spike[4] = 10.0
    z = robust_z(spike, 3)
    assert np.all(np.isfinite(z))
    assert z[4] == pytest.approx(10.0 / 1e-8, rel=1e-9)
    assert np.count_nonzero(z) == 1
    assert np.array_equal(robust_z(np.full(40, 3.25), 5), np.zeros(40))
    assert robust_z(np.array([]), 5).shape == (0,)
    # against the reference on trending, noisy, skewed data, two windows
    rng = np.random.default_rng(2024)
    series = np.linspace(0, 5, 301) + rng.gamma(2.0, 0.3, 301)
    for window in (5, 7, 31):
        assert np.allclose(robust_z(series, window), reference_robust_z(series, window), rtol=1e-10)


def test_stuck_mask_edges():
    def mask(*channels, min_run=3, tolerance=0.0):
        out = stuck_mask(
            *(np.asarray(c, dtype=float) for c in channels), min_run=min_run, tolerance=tolerance
        )
        assert out.dtype == bool and out.shape == (np.asarray(channels[0]).shape[0],)
        return out.astype(int).tolist()

    assert mask([]) == []
    assert mask([4.0]) == [0]
    # a frozen stretch at the very start: the first value is the real one, not a repeat
    assert mask([5, 5, 5, 5, 1]) == [0, 1, 1, 1, 0]
    assert mask([5, 5, 5, 5, 1], min_run=4) == [0, 0, 0, 0, 0]
    # a frozen stretch running to the very end
    assert mask([1, 2, 3, 3, 3, 3]) == [0, 0, 0, 1, 1, 1]
    # exactly min_run repeats is enough, one fewer is not; two runs are judged separately
    assert mask([1, 1, 1, 1, 2, 7, 7, 7, 9]) == [0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert mask([1, 1, 1, 1, 2, 7, 7, 7, 9], min_run=2) == [0, 1, 1, 1, 0, 0, 1, 1, 0]
    # a run only counts where every channel repeats: one moving channel splits it
    a = [3, 3, 3, 3, 3, 3, 3, 3]
    b = [1, 1, 1, 1, 2, 2, 2, 2]
    c = [0, 0, 0, 0, 0, 0, 0, 0]
    assert mask(a, b, c) == [0, 1, 1, 1, 0, 1, 1, 1]
    assert mask(a, b, c, min_run=4) == [0] * 8
    assert mask(a, c, min_run=7) == [0] + [1] * 7
    # a tolerance: a change up to it counts as a repeat, even where decimals are inexact in
    # binary (1.003 - 1.001 is a hair over 0.002 as a float)
    drift = [1.000, 1.001, 1.003, 1.002, 1.9]
    assert mask(drift, min_run=2, tolerance=0.002) == [0, 1, 1, 1, 0]
    assert mask(drift, min_run=2, tolerance=0.001) == [0, 0, 0, 0, 0]
    assert mask(drift, min_run=1, tolerance=0.001) == [0, 1, 0, 1, 0]
    # one tolerance per channel
    wobbly = [5.0, 5.4, 5.1, 5.3, 9.0]
    steady = [1.0, 1.0, 1.0, 1.0, 1.0]
    assert mask(wobbly, steady, min_run=3, tolerance=[0.5, 0.0]) == [0, 1, 1, 1, 0]
    assert mask(wobbly, steady, min_run=3, tolerance=[0.5, 0.0]) != mask(wobbly, steady, min_run=3)
