#!/usr/bin/env python3
"""Anchor metrics for tests/gbdt/test_realdata.cpp: LightGBM (leaf-wise) and XGBoost (hist,
depth-wise) on ../shared/data/lightgbm/{binary,regression,multiclass}.{train,test} with the
hyperparameters the test uses for ours. Run: bench/compare/gbdt_anchor.py [data_dir]
Pinned: lightgbm==4.6.0 xgboost-cpu==3.2.0 scikit-learn==1.7.2 (installed by venv.sh)."""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PINS = ["lightgbm==4.6.0", "xgboost-cpu==3.2.0", "scikit-learn==1.7.2"]
from anchor_venv import reexec_with
reexec_with(PINS)

import numpy as np
import lightgbm as lgb
import xgboost as xgb
from sklearn.metrics import roc_auc_score

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "lightgbm")
ROUNDS, LR, THREADS = 100, 0.1, 2


def load(name):
    tr = np.loadtxt(os.path.join(data, name + ".train"), delimiter="\t")
    te = np.loadtxt(os.path.join(data, name + ".test"), delimiter="\t")
    return tr[:, 1:], tr[:, 0], te[:, 1:], te[:, 0]


def score(task, y, p):
    if task == "binary":
        return "auc", roc_auc_score(y, p)
    if task == "regression":
        return "rmse", float(np.sqrt(np.mean((p - y) ** 2)))
    return "accuracy", float(np.mean(np.argmax(p, axis=1) == y))


for task in ["binary", "regression", "multiclass"]:
    X, y, Xt, yt = load(task)
    obj = {"binary": "binary", "regression": "regression", "multiclass": "multiclass"}[task]
    lp = dict(objective=obj, learning_rate=LR, num_leaves=31, max_depth=-1, min_data_in_leaf=20,
              min_sum_hessian_in_leaf=1e-3, lambda_l2=0.0, max_bin=255, num_threads=THREADS,
              verbose=-1, seed=0, deterministic=True)
    if task == "multiclass":
        lp["num_class"] = int(y.max()) + 1
    b = lgb.train(lp, lgb.Dataset(X, y), ROUNDS)
    print(task, "lightgbm", *score(task, yt, b.predict(Xt)))
    xo = {"binary": "binary:logistic", "regression": "reg:squarederror", "multiclass": "multi:softprob"}[task]
    xp = dict(objective=xo, eta=LR, max_depth=6, min_child_weight=1.0, reg_lambda=1.0, max_bin=255,
              tree_method="hist", nthread=THREADS, seed=0)
    if task == "multiclass":
        xp["num_class"] = int(y.max()) + 1
    bx = xgb.train(xp, xgb.DMatrix(X, y), ROUNDS)
    print(task, "xgboost", *score(task, yt, bx.predict(xgb.DMatrix(Xt))))
