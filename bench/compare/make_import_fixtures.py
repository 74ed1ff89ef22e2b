#!/usr/bin/env python3
"""Writes the import fixtures of tests/gbdt/test_import.cpp into tests/gbdt/fixtures/:
small XGBoost JSON and LightGBM text models trained here on synthetic data (NaN and exact zeros
included, so default directions and LightGBM's missing types are exercised), the probe rows
X.csv, and each library's raw margins on them (<name>.expected.csv, %.17g).
Run: bench/compare/make_import_fixtures.py   (pins: lightgbm==4.6.0 xgboost-cpu==3.2.0)."""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PINS = ["lightgbm==4.6.0", "xgboost-cpu==3.2.0", "scikit-learn==1.7.2"]
from anchor_venv import reexec_with
reexec_with(PINS)

import numpy as np
import lightgbm as lgb
import xgboost as xgb

out = os.path.join(ROOT, "tests", "gbdt", "fixtures")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
n, d = 600, 8
X = rng.normal(size=(n, d))
X[:, 3] = np.round(X[:, 3])            # many exact zeros
X[rng.random((n, d)) < 0.08] = np.nan  # missing values everywhere but column 7
X[:, 7] = rng.normal(size=n)
f = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) ** 2 + np.nan_to_num(X[:, 3])
y_reg = f + 0.3 * rng.normal(size=n)
y_bin = (f + 0.5 * rng.normal(size=n) > 0).astype(float)
y_mc = np.digitize(f + 0.3 * rng.normal(size=n), [-1.0, 0.5])
P = rng.normal(size=(120, d))
P[:, 3] = np.round(P[:, 3])
P[rng.random((120, d)) < 0.15] = np.nan  # column 7 gets NaN only here: unseen-missing paths
np.savetxt(os.path.join(out, "X.csv"), P, delimiter=",", fmt="%.17g")

def save_expected(name, m):
    np.savetxt(os.path.join(out, name + ".expected.csv"), np.atleast_2d(m.T).T if m.ndim == 1 else m,
               delimiter=",", fmt="%.17g")

common = dict(eta=0.3, max_depth=4, tree_method="hist", nthread=1, seed=0)
for name, obj, y, extra in [("xgb_regression", "reg:squarederror", y_reg, {}),
                            ("xgb_binary", "binary:logistic", y_bin, {}),
                            ("xgb_multiclass", "multi:softprob", y_mc, {"num_class": 3})]:
    b = xgb.train(dict(objective=obj, **common, **extra), xgb.DMatrix(X, y), 12)
    b.save_model(os.path.join(out, name + ".json"))
    save_expected(name, b.predict(xgb.DMatrix(P), output_margin=True).astype(np.float64))

lcommon = dict(learning_rate=0.2, num_leaves=8, min_data_in_leaf=10, num_threads=1, verbose=-1,
               seed=0, deterministic=True)
for name, obj, y, extra in [("lgb_regression", "regression", y_reg, {"zero_as_missing": True}),
                            ("lgb_binary", "binary", y_bin, {}),
                            ("lgb_multiclass", "multiclass", y_mc, {"num_class": 3})]:
    b = lgb.train(dict(objective=obj, **lcommon, **extra), lgb.Dataset(X, y), 12)
    b.save_model(os.path.join(out, name + ".txt"))
    save_expected(name, b.predict(P, raw_score=True))
print("wrote", sorted(os.listdir(out)))
