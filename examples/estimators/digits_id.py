"""Intrinsic dimension of scikit-learn's bundled handwritten digits (1,797 images, 64 pixels).

    .venv/bin/python examples/estimators/digits_id.py

Prints every estimator of audit.estimators with its interval and method, from one shared
neighbour search, and the sample-size sensitivity of TwoNN.
"""

from sklearn.datasets import load_digits

from audit import estimators as est

X = load_digits().data
print(f"digits: {X.shape[0]} points x {X.shape[1]} features\n")
found = est.knn_estimates(X, k=20, gride_range_max=32)
spectral = {f.__name__: f(X) for f in (est.pca_id, est.participation_ratio, est.effective_rank, est.stable_rank)}
for name, result in {**{k: v for k, v in found.items() if k != "neighbors"}, **spectral}.items():
    duplicates = f", {result.n_duplicates} duplicate points left out" if result.n_duplicates else ""
    print(f"{name:20s} {result.value:7.2f}  [{result.ci_low:6.2f}, {result.ci_high:6.2f}]  {result.method}{duplicates}")
print("\nGRIDE by scale (n1: ID):", ", ".join(f"{s}: {d:.1f}" for s, d in zip(found["gride"].scales, found["gride"].dims)))
sensitivity = est.sample_size_sensitivity(X, est.twonn)
print("TwoNN by sample size:", ", ".join(f"{n}: {v:.2f}" for n, v in zip(sensitivity.sizes, sensitivity.values)))
