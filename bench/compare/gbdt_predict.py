#!/usr/bin/env python3
"""Prediction throughput, Orchard vs XGBoost, side by side and repeated (robust under load).

Same data as bench/compare/gbdt.py (make_classification, 28 features, 20 informative, seed 0,
--rows, 80 % train / 20 % test), models trained once into --work (kept between runs): XGBoost
3.2.0 hist and ours with the same hyperparameters (100 rounds, depth 6, eta 0.1, 255 bins,
lambda 1, min_child_weight 1), plus XGBoost's model imported into ours (the very same trees).
Then --reps rounds, each timing XGBoost's predict on a fresh DMatrix (built outside the timer:
XGBoost caches predictions per DMatrix) and `orchard_gbdt predict` (its own timer, prediction
only) for each model, with the given threads. Prints min / median / max seconds and the ratios
of the medians, and checks the imported model's predictions against XGBoost's.
Usage: bench/compare/gbdt_predict.py --bin build/examples/gbdt/orchard_gbdt [--reps 7]"""
import argparse, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PINS = ["xgboost-cpu==3.2.0", "scikit-learn==1.7.2"]
from anchor_venv import reexec_with
reexec_with(PINS)

import numpy as np
import xgboost as xgb

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(ROOT, "build/examples/gbdt/orchard_gbdt"))
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=7)
ap.add_argument("--work", default="/tmp/orchard_gbdt_predict", help="data and models (reused)")
args = ap.parse_args()
os.makedirs(args.work, exist_ok=True)
w = lambda f: os.path.join(args.work, f)
th = str(args.threads)

if not os.path.exists(w("Xte.npy")):
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=args.rows, n_features=28, n_informative=20, random_state=0)
    k = int(0.8 * len(y))
    np.save(w("Xtr.npy"), X[:k].astype(np.float32)); np.save(w("ytr.npy"), y[:k].astype(np.float64))
    np.save(w("Xte.npy"), X[k:].astype(np.float32))
if not os.path.exists(w("xgb.json")):
    p = dict(tree_method="hist", max_depth=6, eta=0.1, max_bin=255, nthread=args.threads,
             min_child_weight=1.0, reg_lambda=1.0, objective="binary:logistic")
    xgb.train(p, xgb.DMatrix(np.load(w("Xtr.npy")), np.load(w("ytr.npy"))), 100).save_model(w("xgb.json"))
if not os.path.exists(w("ours.json")):
    subprocess.run([args.bin, "train", "--data", w("Xtr.npy"), "--labels", w("ytr.npy"), "--objective", "binary",
                    "--rounds", "100", "--max-depth", "6", "--learning-rate", "0.1", "--max-bin", "255",
                    "--min-child-weight", "1", "--lambda-l2", "1", "--model", w("ours.json"), "--quiet",
                    "--threads", th], check=True, capture_output=True)
subprocess.run([args.bin, "import", "--xgboost", w("xgb.json"), "--model", w("from_xgb.json")], check=True,
               capture_output=True)

b = xgb.Booster()
b.load_model(w("xgb.json"))
b.set_param({"nthread": args.threads})
Xt = np.load(w("Xte.npy"))
models = {"orchard (own model)": w("ours.json"), "orchard (XGBoost's trees)": w("from_xgb.json")}
times = {"xgboost": [], **{k: [] for k in models}}
for r in range(args.reps):
    dt = xgb.DMatrix(Xt, nthread=args.threads)
    t0 = time.perf_counter()
    pred = b.predict(dt)
    times["xgboost"].append(time.perf_counter() - t0)
    for name, m in models.items():
        out = subprocess.run([args.bin, "predict", "--data", w("Xte.npy"), "--model", m, "--out",
                              w("pred.csv"), "--threads", th], capture_output=True, text=True, check=True)
        times[name].append(float(out.stderr.split(" rows in ")[1].split(" s")[0]))
ours_on_xgb = np.loadtxt(w("pred.csv"))
print(f"{Xt.shape[0]} rows x {Xt.shape[1]} features, 100 trees of depth 6, {args.threads} threads, {args.reps} reps")
med = {}
for k, v in times.items():
    v = sorted(v)
    med[k] = v[len(v) // 2]
    print(f"{k:28s} min {v[0]:.4f}  median {med[k]:.4f}  max {v[-1]:.4f} s")
for k in models:
    print(f"{k}: throughput x{med['xgboost'] / med[k]:.2f} XGBoost's (median times)")
print(f"imported model vs XGBoost predictions: max |diff| {np.abs(ours_on_xgb - pred).max():.2e}")
