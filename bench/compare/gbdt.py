#!/usr/bin/env python3
"""Orchard GBDT vs XGBoost (hist) and LightGBM, same data, threads and hyperparameters, one run.

Data: synthetic binary set (scikit-learn make_classification, 28 features, 20 informative,
seed 0; --rows, default 1,000,000, 80 % train / 20 % test) and optionally Fashion-MNIST
(--fashion; --fashion-rows N trains on the first N of its 60,000 rows; --no-synthetic runs it
alone). Each library trains in its own subprocess under /usr/bin/time (peak memory).
Prints time, peak memory and AUC / accuracy per library, and our time ratios.
Usage: bench/compare/gbdt.py --bin build/examples/gbdt/orchard_gbdt [--rows N] [--threads 2]
Pins: xgboost-cpu==3.2.0 lightgbm==4.6.0 scikit-learn==1.7.2 (via bench/compare/venv.sh)."""
import argparse, json, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PINS = ["lightgbm==4.6.0", "xgboost-cpu==3.2.0", "scikit-learn==1.7.2"]
from anchor_venv import reexec_with
reexec_with(PINS)

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=os.path.join(ROOT, "build/examples/gbdt/orchard_gbdt"))
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--rounds", type=int, default=100)
ap.add_argument("--depth", type=int, default=6)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--fashion", action="store_true", help="also Fashion-MNIST (50 rounds, eta 0.3)")
ap.add_argument("--fashion-rows", type=int, default=60000,
                help="Fashion-MNIST training rows (the first N of the 60,000; all 10,000 test rows)")
ap.add_argument("--no-synthetic", action="store_true", help="skip the synthetic binary set")
args = ap.parse_args()

LIB = r'''
import sys, time, json, numpy as np
lib, d, rounds, depth, eta, threads, obj, ncls = sys.argv[1:9]
rounds, depth, threads, ncls, eta = int(rounds), int(depth), int(threads), int(ncls), float(eta)
X = np.load(d + "/Xtr.npy"); y = np.load(d + "/ytr.npy"); Xt = np.load(d + "/Xte.npy")
t0 = time.perf_counter()
if lib == "xgboost":
    import xgboost as xgb
    p = dict(tree_method="hist", max_depth=depth, eta=eta, max_bin=255, nthread=threads,
             min_child_weight=1.0, reg_lambda=1.0)
    p.update(dict(objective="binary:logistic") if obj == "binary" else dict(objective="multi:softprob", num_class=ncls))
    b = xgb.train(p, xgb.DMatrix(X, y), rounds)
    tt = time.perf_counter() - t0; dt = xgb.DMatrix(Xt); t1 = time.perf_counter(); pr = b.predict(dt)
else:
    import lightgbm as lgb
    p = dict(max_depth=depth, num_leaves=2 ** depth, learning_rate=eta, max_bin=255, num_threads=threads,
             min_sum_hessian_in_leaf=1.0, lambda_l2=1.0, min_data_in_leaf=1, verbose=-1)
    p.update(dict(objective="binary") if obj == "binary" else dict(objective="multiclass", num_class=ncls))
    b = lgb.train(p, lgb.Dataset(X, y), rounds)
    tt = time.perf_counter() - t0; t1 = time.perf_counter(); pr = b.predict(Xt, num_threads=threads)
pt = time.perf_counter() - t1
np.save(d + "/pred_" + lib + ".npy", np.asarray(pr, dtype=np.float64))
print(json.dumps(dict(train=tt, predict=pt)))
'''


def timed(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: " + " ".join(cmd) + "\n" + r.stdout + r.stderr)
    rss = [l for l in r.stderr.splitlines() if l.startswith("MAXRSS")][-1].split()[1]
    return r.stdout, r.stderr, int(rss) / 1024.0


def score(obj, y, p):
    from sklearn.metrics import roc_auc_score
    if obj == "binary":
        return "AUC", roc_auc_score(y, p if p.ndim == 1 else p[:, -1])
    return "accuracy", float(np.mean(np.argmax(p, axis=1) == y))


def run(name, d, Xtr, ytr, Xte, yte, obj, ncls, rounds, depth, eta):
    np.save(d + "/Xtr.npy", Xtr.astype(np.float32)); np.save(d + "/ytr.npy", ytr.astype(np.float64))
    np.save(d + "/Xte.npy", Xte.astype(np.float32))
    rows = []
    for lib in ["xgboost", "lightgbm"]:
        out, _, rss = timed([sys.executable, "-c", LIB, lib, d, str(rounds), str(depth), str(eta),
                             str(args.threads), obj, str(ncls)])
        t = json.loads(out.strip().splitlines()[-1])
        rows.append((lib, t["train"], t["predict"], rss, *score(obj, yte, np.load(d + "/pred_" + lib + ".npy"))))
    common = ["--threads", str(args.threads)]
    out, err, rss = timed([args.bin, "train", "--data", d + "/Xtr.npy", "--labels", d + "/ytr.npy",
                           "--objective", obj, "--rounds", str(rounds), "--max-depth", str(depth),
                           "--learning-rate", str(eta), "--max-bin", "255", "--min-child-weight", "1",
                           "--lambda-l2", "1", "--model", d + "/m.json", "--quiet"] + common)
    ttrain = float(out.split(" in ")[1].split(" s")[0])
    out, err, _ = timed([args.bin, "predict", "--data", d + "/Xte.npy", "--model", d + "/m.json",
                         "--out", d + "/pred.csv"] + common)
    tpred = float(err.split(" rows in ")[1].split(" s")[0])
    p = np.loadtxt(d + "/pred.csv", delimiter=",")
    rows.append(("orchard", ttrain, tpred, rss, *score(obj, yte, p)))
    print(f"\n{name}: {Xtr.shape[0]} train x {Xtr.shape[1]} features, {rounds} rounds, depth {depth}, "
          f"eta {eta}, 255 bins, {args.threads} threads")
    print(f"{'library':10s} {'train s':>9s} {'predict s':>10s} {'peak MiB':>9s} {'metric':>9s}")
    for lib, tt, pt, rss, mname, m in rows:
        print(f"{lib:10s} {tt:9.2f} {pt:10.3f} {rss:9.0f} {mname:>9s} {m:.4f}")
    ours = rows[-1]
    for lib, tt, pt, rss, _, m in rows[:-1]:
        print(f"orchard / {lib}: train time x{ours[1] / tt:.2f}, predict time x{ours[2] / pt:.2f}, "
              f"peak memory x{ours[3] / rss:.2f}, metric {ours[5] - m:+.4f}")


with tempfile.TemporaryDirectory() as d:
    from sklearn.datasets import make_classification
    if not args.no_synthetic:
        X, y = make_classification(n_samples=args.rows, n_features=28, n_informative=20, random_state=0)
        k = int(0.8 * len(y))
        run("synthetic binary", d, X[:k], y[:k], X[k:], y[k:], "binary", 2, args.rounds, args.depth, 0.1)
    if args.fashion:
        import gzip
        def idx(path):
            with gzip.open(path) as f:
                raw = f.read()
            nd = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
            return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims[0], -1)
        fm = "/usr/share/datasets/fashion-mnist/"
        Xtr = idx(fm + "train-images-idx3-ubyte.gz") / 255.0; ytr = idx(fm + "train-labels-idx1-ubyte.gz")[:, 0]
        Xtr, ytr = Xtr[:args.fashion_rows], ytr[:args.fashion_rows]
        Xte = idx(fm + "t10k-images-idx3-ubyte.gz") / 255.0; yte = idx(fm + "t10k-labels-idx1-ubyte.gz")[:, 0]
        run("Fashion-MNIST", d, Xtr, ytr, Xte, yte, "multiclass", 10, 50, 6, 0.3)
