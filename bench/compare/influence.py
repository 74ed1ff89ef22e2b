#!/usr/bin/env python3
"""Parity and speed of orchard::influence against the reference package tree-influence.

Trains a LightGBM or XGBoost model (--library; binary, 20 features, 100 trees, depth 5, the
spec's setting) on synthetic data, saves the model and the rows, runs tree-influence's BoostIn,
LeafInfluenceSP, LeafSim and TREX on the same rows, runs our build/examples/influence/influence_run
on the same model file and data, and prints per method the max relative difference
(max |ours - ref| / max |ref|), the mean per-test-row Spearman correlation, the mean overlap of
the 10 most helpful rows per test row, and both timings.

Usage: bench/compare/influence.py [--library lightgbm|xgboost] [--n-train 1000] [--n-test 20]
                                  [--methods ...] [--keep DIR]
Pins: see PINS (a Python 3.10 environment .venv-ti, see ensure_env for why).
--fixture DIR also writes the model, the rows and the reference's outputs there as
<lib>_model.{txt,json}, <lib>_train.csv, <lib>_test.csv, <lib>_ref_<method>.csv with lib = lgb or
xgb (the unit test tests/influence/test_parity.cpp checks them without Python):
  bench/compare/influence.py --library lightgbm --n-train 300 --n-test 10 --trees 20 --threads 2 \
      --with-torch --fixture tests/influence/fixtures
  (the same with --library xgboost, and with --library xgboost --classes 3 --n-train 200 --n-test 8
  --trees 10: the multiclass fixture, prefix xgb3)
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
PINS = ['tree-influence==0.1.7', 'lightgbm==4.6.0', 'xgboost-cpu==3.2.0', 'scikit-learn==1.3.2', 'numpy==1.26.4',
        'scipy==1.11.4', 'pandas==2.1.4', 'joblib==1.3.2']
# TREX's reference needs torch: PyPI's torch 1.12.1 wheel for CPython 3.10 is self-contained
# (no separate CUDA packages; it runs on CPU) and is installed with --no-deps when --with-torch.
TORCH_PIN = 'torch==1.12.1'

# tree-influence 0.1.7 ships wheels for CPython 3.9 / 3.10 only and its sdist does not build
# (a missing _tree32.pyx), so this script makes its own 3.10 environment (pyenv's when present)
# instead of bench/compare/venv.sh's Debian 3.11 one. Debian's python3-torch is built for 3.11,
# and PyPI's newer torch wheels pull gigabytes of CUDA packages, so without --with-torch torch is
# stubbed (tree_influence imports it at package import) and TREX is skipped; --with-torch installs
# TORCH_PIN (a ~750 MB download, once).
PY310 = os.environ.get('ORCHARD_PY310', '/root/.pyenv/versions/3.10.13/bin/python')


def ensure_env():
    if os.environ.get('ORCHARD_COMPARE_CHILD'):
        return
    venv = os.path.join(ROOT, '.venv-ti')
    py = os.path.join(venv, 'bin', 'python')
    if not os.path.exists(py):
        subprocess.check_call([PY310, '-m', 'venv', venv])
    # tree-influence declares torch (and with it PyPI's CUDA wheels) as a dependency: install it
    # without dependencies and its other requirements explicitly.
    subprocess.check_call([py, '-m', 'pip', 'install', '-q', '--only-binary=:all:'] + PINS[1:])
    subprocess.check_call([py, '-m', 'pip', 'install', '-q', '--only-binary=:all:', '--no-deps', PINS[0]])
    if '--with-torch' in sys.argv:
        subprocess.check_call([py, '-m', 'pip', 'install', '-q', '--only-binary=:all:', '--no-deps', TORCH_PIN,
                               'typing-extensions'])
    env = dict(os.environ, ORCHARD_COMPARE_CHILD='1')
    sys.exit(subprocess.call([py] + sys.argv, env=env))


def stub_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        import types
        fake = types.ModuleType('torch')
        fake.nn = types.ModuleType('torch.nn')
        fake.nn.Module = object
        fake.optim = types.ModuleType('torch.optim')
        fake.autograd = types.ModuleType('torch.autograd')
        fake.autograd.Variable = None
        for name, mod in [('torch', fake), ('torch.nn', fake.nn), ('torch.optim', fake.optim),
                          ('torch.autograd', fake.autograd)]:
            sys.modules[name] = mod
        return False


def main():
    ensure_env()
    have_torch = stub_torch()
    import numpy as np
    from scipy.stats import spearmanr
    from sklearn.datasets import make_classification
    from tree_influence.explainers import BoostIn, LeafInfluenceSP, LeafSim, Trex

    ap = argparse.ArgumentParser()
    ap.add_argument('--library', default='lightgbm', choices=['lightgbm', 'xgboost'])
    ap.add_argument('--with-torch', action='store_true', help='install torch and compare TREX too')
    ap.add_argument('--n-train', type=int, default=1000)
    ap.add_argument('--n-test', type=int, default=20)
    ap.add_argument('--methods', default='boostin,leaf_influence_sp,leaf_sim,trex')
    ap.add_argument('--fixture', default='', help='write a small parity fixture (model, data, reference outputs) here')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--trees', type=int, default=100)
    ap.add_argument('--classes', type=int, default=2, help='> 2: a multiclass (softmax) model')
    ap.add_argument('--keep', default='')
    ap.add_argument('--binary', default=os.path.join(ROOT, 'build/examples/influence/influence_run'))
    a = ap.parse_args()

    X, y = make_classification(n_samples=a.n_train + a.n_test, n_features=20, n_informative=10,
                               n_classes=a.classes, random_state=1)
    Xtr, ytr, Xte, yte = X[:a.n_train], y[:a.n_train], X[a.n_train:], y[a.n_train:]
    lr, lam = 0.1, 1.0
    out = a.keep or tempfile.mkdtemp(prefix='orchard_inf_')
    os.makedirs(out, exist_ok=True)
    if a.library == 'lightgbm':
        from lightgbm import LGBMClassifier
        model = LGBMClassifier(n_estimators=a.trees, max_depth=5, num_leaves=32, learning_rate=lr,
                               reg_lambda=lam, n_jobs=a.threads, random_state=1, verbose=-1).fit(Xtr, ytr)
        model_file, fmt, lib = 'model.txt', 'lightgbm', 'lgb' if a.classes == 2 else f'lgb{a.classes}'
        model.booster_.save_model(os.path.join(out, model_file))
    else:
        # base_score 0.5 (margin 0): tree-influence's XGBoost parser assumes a zero bias for
        # binary models, while XGBoost >= 2 would start from the label mean.
        # Multiclass: tree-influence assumes a zero bias per class; XGBoost's base_score 0.5 on every
        # class shifts all margins alike, which the softmax ignores.
        from xgboost import XGBClassifier
        extra = {'objective': 'multi:softprob'} if a.classes > 2 else {}
        model = XGBClassifier(n_estimators=a.trees, max_depth=5, learning_rate=lr, reg_lambda=lam,
                              base_score=0.5, tree_method='hist', n_jobs=a.threads, random_state=1,
                              **extra).fit(Xtr, ytr)
        model_file, fmt, lib = 'model.json', 'xgboost', 'xgb' if a.classes == 2 else f'xgb{a.classes}'
        model.get_booster().save_model(os.path.join(out, model_file))
    np.savetxt(os.path.join(out, 'train.csv'), np.column_stack([ytr, Xtr]), delimiter=',', fmt='%.17g')
    np.savetxt(os.path.join(out, 'test.csv'), np.column_stack([yte, Xte]), delimiter=',', fmt='%.17g')

    ref_cls = {'boostin': BoostIn, 'leaf_influence_sp': LeafInfluenceSP, 'leaf_sim': LeafSim,
               'trex': lambda: Trex(kernel='lpw', target='actual', lmbd=0.003)}
    methods = [m for m in a.methods.split(',') if m != 'trex' or have_torch]
    if len(methods) < len(a.methods.split(',')):
        print('(TREX skipped: no torch in this environment)')
    ref, ref_t = {}, {}
    for m in methods:
        t0 = time.time()
        ex = ref_cls[m]().fit(model, Xtr, ytr)
        t1 = time.time()
        ref[m] = ex.get_local_influence(Xte, yte)
        t2 = time.time()
        ref_t[m] = (t1 - t0, (t2 - t1) / a.n_test)
        np.save(os.path.join(out, f'ref_{m}.npy'), ref[m])

    cmd = [a.binary, '--model', os.path.join(out, model_file), '--format', fmt,
           '--train', os.path.join(out, 'train.csv'), '--test', os.path.join(out, 'test.csv'),
           '--methods', ','.join(methods), '--threads', str(a.threads), '--out', out,
           '--learning-rate', str(lr), '--lambda', str(lam), '--repeat', '5']
    log = subprocess.check_output(cmd, text=True, env=dict(os.environ, OMP_WAIT_POLICY='passive'))
    ours_t = {}
    for line in log.splitlines():
        parts = line.split()
        kv = dict(p.split('=') for p in parts[1:] if '=' in p)
        if 'fit_s' in kv:
            ours_t[parts[0]] = (float(kv['fit_s']), float(kv['per_row_ms']) / 1e3)

    print(f'n_train={a.n_train} n_test={a.n_test} {a.library} {a.classes} classes {a.trees} trees depth 5, '
          f'threads={a.threads}')
    print(f'{"method":20s} {"max rel diff":>12s} {"spearman":>9s} {"top10":>6s} {"ref fit s":>10s} '
          f'{"ours fit s":>10s} {"ref ms/row":>10s} {"ours ms/row":>11s} {"speedup/row":>11s}')
    for m in methods:
        ours = np.loadtxt(os.path.join(out, f'{m}.csv'), delimiter=',', ndmin=2)
        r = ref[m]
        rel = np.max(np.abs(ours - r)) / max(np.max(np.abs(r)), 1e-300)
        sp = np.mean([spearmanr(ours[:, j], r[:, j]).correlation for j in range(r.shape[1])])
        kk = min(10, r.shape[0])
        top = np.mean([len(set(np.argsort(-ours[:, j])[:kk]) & set(np.argsort(-r[:, j])[:kk])) / kk
                       for j in range(r.shape[1])])
        rf, rr = ref_t[m]
        of, orow = ours_t[m]
        print(f'{m:20s} {rel:12.3e} {sp:9.5f} {top:6.3f} {rf:10.3f} {of:10.4f} {1e3 * rr:10.3f} {1e3 * orow:11.4f} '
              f'{rr / max(orow, 1e-12):11.1f}')
    if a.fixture:
        import shutil
        os.makedirs(a.fixture, exist_ok=True)
        for f in [model_file, 'train.csv', 'test.csv']:
            shutil.copy(os.path.join(out, f), os.path.join(a.fixture, f'{lib}_{f}'))
        for m in methods:
            np.savetxt(os.path.join(a.fixture, f'{lib}_ref_{m}.csv'), ref[m], delimiter=',', fmt='%.17g')
        print(f'fixture written to {a.fixture}')


if __name__ == '__main__':
    main()
