"""Head redundancy: debiased linear CKA against the direct Gram-matrix formulas, planted duplicates."""

import json

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from audit import estimators as est
from audit.estimators import EstimatorInputError
from audit.estimators import attention_heads as hd


def gram_hsic_unbiased(X, Y):
    """Song et al. (2012) unbiased HSIC, written directly on n x n Gram matrices (reference)."""
    n = X.shape[0]
    K, L, ones = X @ X.T, Y @ Y.T, np.ones(n)
    np.fill_diagonal(K, 0.0)
    np.fill_diagonal(L, 0.0)
    total = np.trace(K @ L) + (ones @ K @ ones) * (ones @ L @ ones) / ((n - 1) * (n - 2))
    return (total - 2.0 / (n - 2) * ones @ K @ L @ ones) / (n * (n - 3))


def gram_cka(X, Y, hsic):
    return hsic(X, Y) / np.sqrt(hsic(X, X) * hsic(Y, Y))


def gram_hsic_biased(X, Y):
    """Kornblith et al. (2019): HSIC_0 = tr(K H L H) / (n - 1)^2, H the centring matrix."""
    n = X.shape[0]
    H = np.eye(n) - 1.0 / n
    return np.trace(X @ X.T @ H @ Y @ Y.T @ H) / (n - 1) ** 2


def rng_pair(seed, n, d_x, d_y):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d_x)) * 2.0 + 1.5, rng.standard_normal((n, d_y)) - 0.7


@pytest.mark.parametrize("n, d_x, d_y", [(4, 1, 3), (5, 2, 2), (17, 6, 9), (64, 32, 32), (300, 16, 48)])
def test_feature_space_hsic_equals_gram_formula(n, d_x, d_y):
    X, Y = rng_pair(n + d_x, n, d_x, d_y)
    fast = hd._unbiased_hsic(np.concatenate([X, Y], axis=1), [d_x, d_y])  # uncentred on purpose
    reference = np.array([[gram_hsic_unbiased(A, B) for B in (X, Y)] for A in (X, Y)])
    np.testing.assert_allclose(fast, reference, rtol=1e-10, atol=1e-10 * np.abs(reference).max())


@pytest.mark.parametrize("n, d_x, d_y", [(4, 2, 2), (33, 5, 11), (200, 24, 8)])
def test_debiased_cka_equals_gram_formula(n, d_x, d_y):
    X, Y = rng_pair(7 * n, n, d_x, d_y)
    Y = Y + 0.5 * X[:, :1]  # some dependence, so CKA is not ~0
    assert hd.debiased_linear_cka(X, Y) == pytest.approx(gram_cka(X, Y, gram_hsic_unbiased), abs=1e-10)


def test_independent_data_debiased_reads_zero_where_biased_does_not():
    biased, debiased = [], []
    for seed in range(50):
        X, Y = rng_pair(seed, 32, 8, 8)
        biased.append(gram_cka(X, Y, gram_hsic_biased))
        debiased.append(hd.debiased_linear_cka(X, Y))
    assert abs(np.mean(debiased)) < 0.05
    assert np.mean(biased) > 0.15


@pytest.mark.parametrize(("n", "biased_reads"), [(32, 0.20), (64, 0.11), (128, 0.06), (256, 0.03)])
def test_debiased_cka_of_independent_data_stays_near_zero_at_every_size(n, biased_reads):
    """Independent Gaussians in 8 dimensions: biased linear CKA reads about 0.20, 0.11, 0.06, 0.03
    at n = 32 ... 256 (the series MONAI PR #9129 reports); the debiased one stays within 0.02
    of 0 on average over 20 fixed seeds."""
    biased, debiased = [], []
    for seed in range(20):
        rng = np.random.default_rng([n, seed])
        X, Y = rng.standard_normal((n, 8)), rng.standard_normal((n, 8))
        biased.append(gram_cka(X, Y, gram_hsic_biased))
        debiased.append(hd.debiased_linear_cka(X, Y))
    assert np.mean(biased) == pytest.approx(biased_reads, rel=0.2)
    assert abs(np.mean(debiased)) <= 0.02


def test_cka_identity_and_invariances():
    X, Y = rng_pair(3, 120, 12, 7)
    Y = Y + X[:, :7] @ np.random.default_rng(4).standard_normal((7, 7))
    Q = ortho_group.rvs(12, random_state=5)
    assert hd.debiased_linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)
    assert hd.debiased_linear_cka(X, X @ Q) == pytest.approx(1.0, abs=1e-12)
    assert hd.debiased_linear_cka(X, -3.0 * X @ Q + 10.0) == pytest.approx(1.0, abs=1e-12)
    base = hd.debiased_linear_cka(X, Y)
    assert 0.2 < base < 0.99
    assert hd.debiased_linear_cka(4.2 * X @ Q, Y) == pytest.approx(base, abs=1e-10)
    assert hd.debiased_linear_cka(X + 5.0, Y) == pytest.approx(base, abs=1e-10)
    assert hd.debiased_linear_cka(Y, X) == pytest.approx(base, abs=1e-12)
    assert hd.debiased_linear_cka(torch.from_numpy(X), torch.from_numpy(Y)) == pytest.approx(base, rel=1e-12)


def planted_heads(n=512, n_heads=8, d_head=16, seed=0):
    """Independent Gaussian heads; head 5 copies head 2, head 7 is head 1 rotated plus tiny noise."""
    rng = np.random.default_rng(seed)
    heads = rng.standard_normal((n, n_heads, d_head))
    heads[:, 5] = heads[:, 2]
    Q = ortho_group.rvs(d_head, random_state=seed)
    heads[:, 7] = heads[:, 1] @ Q + 1e-3 * rng.standard_normal((n, d_head))
    return heads


def test_planted_duplicates_are_found():
    heads = planted_heads()
    similarity = hd.head_similarity(heads)
    assert hd.redundant_groups(similarity, threshold=0.9) == ((1, 7), (2, 5))
    np.testing.assert_allclose(similarity, similarity.T, atol=0)
    np.testing.assert_array_equal(np.diag(similarity), 1.0)
    off = similarity[~np.eye(8, dtype=bool)]
    assert np.sum(off > 0.9) == 4 and np.all(np.abs(np.sort(off)[:-4]) < 0.1)


def test_matrix_path_matches_pairwise_cka():
    heads = planted_heads(n=60, d_head=5, seed=2) + np.arange(8)[:, None]  # offsets per head
    similarity = hd.head_similarity(heads)
    for a in range(8):
        for b in range(a + 1, 8):
            assert similarity[a, b] == pytest.approx(hd.debiased_linear_cka(heads[:, a], heads[:, b]), abs=1e-10)


def test_correlation_sees_copies_but_not_rotations():
    heads = planted_heads()
    heads[:, 3] = -2.0 * heads[:, 0] + 1.0  # a scaled, sign-flipped, shifted copy
    similarity = hd.head_similarity(heads, measure="correlation")
    assert similarity[2, 5] == pytest.approx(1.0) and similarity[0, 3] == pytest.approx(1.0)
    assert similarity[1, 7] < 0.5  # rotation-dependent by design
    assert hd.redundant_groups(similarity, threshold=0.9) == ((0, 3), (2, 5))


def test_head_redundancy_result():
    result = hd.head_redundancy(torch.from_numpy(planted_heads()), threshold=0.9)
    assert result.groups == ((1, 7), (2, 5)) and result.n_redundant == 2 and result.n_heads == 8
    assert result.n_points == 512 and result.measure == "cka" and "CKA" in result.method
    assert result.constant_heads == ()
    with pytest.raises(ValueError):
        result.similarity[0, 1] = 0.5  # read-only
    with pytest.raises(AttributeError):
        result.threshold = 0.5  # frozen
    assert json.loads(json.dumps(result.to_dict()))["groups"] == [[1, 7], [2, 5]]


@pytest.mark.parametrize("measure", hd.MEASURES)
def test_constant_head_is_reported_not_nan(measure):
    heads = planted_heads(n=100)
    heads[:, 4] = 3.25
    result = hd.head_redundancy(heads, measure=measure)
    assert result.constant_heads == (4,)
    assert np.all(np.isfinite(result.similarity))
    assert result.similarity[4, 4] == 1.0 and not np.any(np.delete(result.similarity[4], 4))
    assert result.groups == (((1, 7), (2, 5)) if measure == "cka" else ((2, 5),))
    with pytest.raises(EstimatorInputError, match="constant"):
        hd.debiased_linear_cka(heads[:, 4], heads[:, 0])


def test_groups_chain_and_ignore_singletons():
    similarity = np.eye(6)
    for a, b, value in [(0, 3, 0.95), (3, 5, 0.92), (1, 2, 0.89), (0, 5, 0.1)]:
        similarity[a, b] = similarity[b, a] = value
    assert hd.redundant_groups(similarity, threshold=0.9) == ((0, 3, 5),)
    assert hd.redundant_groups(similarity, threshold=0.85) == ((0, 3, 5), (1, 2))
    assert hd.redundant_groups(similarity, threshold=1.0) == ()


def test_effective_heads_sees_copied_subspaces():
    rng = np.random.default_rng(1)
    n, n_heads, d_head = 800, 8, 16
    sources = rng.standard_normal((n, 2, d_head))
    copies = np.stack(
        [sources[:, h % 2] @ ortho_group.rvs(d_head, random_state=h) for h in range(n_heads)], axis=1
    )
    redundant = est.effective_heads(copies, seed=0)
    independent = est.effective_heads(rng.standard_normal((n, n_heads, d_head)), seed=0)
    assert redundant.width == 128 and redundant.n_points == n
    assert redundant.effective_rank.value <= 2 * d_head + 1e-6
    assert redundant.rank_fraction < 0.3 and independent.rank_fraction > 0.85
    assert redundant.equivalent_heads == pytest.approx(redundant.effective_rank.value / d_head)
    assert redundant.participation_ratio.value < 0.3 * independent.participation_ratio.value
    assert redundant.effective_rank.ci_low <= redundant.effective_rank.value <= redundant.effective_rank.ci_high
    assert json.loads(json.dumps(redundant.to_dict()))["width"] == 128


@pytest.mark.parametrize(
    "heads, message",
    [
        (np.zeros((10, 4)), "3-D"),
        (np.random.default_rng(0).standard_normal((3, 2, 4)), "at least 4"),
        (np.where(np.arange(80).reshape(10, 2, 4) == 9, np.nan, 1.0 * np.arange(80).reshape(10, 2, 4)), "NaN"),
        (np.full((10, 2, 4), np.inf), "inf"),
        (np.full((10, 2, 4), "a"), "real numbers"),
    ],
)
def test_bad_heads_are_rejected(heads, message):
    for function in (hd.head_similarity, hd.head_redundancy, est.effective_heads):
        with pytest.raises(EstimatorInputError, match=message):
            function(heads)


def test_bad_options_are_rejected():
    heads = np.random.default_rng(0).standard_normal((20, 3, 2))
    with pytest.raises(EstimatorInputError, match="measure"):
        hd.head_similarity(heads, measure="cosine")
    with pytest.raises(EstimatorInputError, match="threshold"):
        hd.head_redundancy(heads, threshold=1.5)
    with pytest.raises(EstimatorInputError, match="symmetric"):
        hd.redundant_groups(np.triu(np.ones((3, 3))))
    with pytest.raises(EstimatorInputError, match="square"):
        hd.redundant_groups(np.ones((3, 2)))
    with pytest.raises(EstimatorInputError, match="same points"):
        hd.debiased_linear_cka(heads[:, 0], heads[:10, 1])
