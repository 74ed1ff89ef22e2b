#!/usr/bin/env python3
"""GBRL: Orchard's ensemble against NVlabs gbrl (PyPI, pinned) on the same shapes, in one run.

Reference: `gbrl==1.1.9` installed with --no-deps (it pins a newer torch than Debian's). Its
Python wrappers (gbrl.models / gbrl.learners, which need torch) are NOT used: the compiled
module gbrl_cpp is loaded directly from the installed package and fed float32 numpy arrays;
that is the stub. Both sides run single-threaded (OMP_NUM_THREADS=1 for the reference, the
threads:1 cases of bench_gbrl for Orchard) and are timed in CPU seconds (process time), which
is robust on a shared machine; wall times are printed too.

Usage: bench/compare/gbrl.py [--build build] [--quick] [--only fit|predict]
"""
import argparse
import glob
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GBRL_PIN = "gbrl==1.1.9"

# (n, features, outputs, score, growth, depth): the spec's fit shapes.
FIT = [
    (256, 8, 5, "cosine", "greedy", 4),
    (256, 8, 5, "l2", "greedy", 4),
    (256, 8, 5, "cosine", "oblivious", 4),
    (64, 128, 19, "cosine", "greedy", 4),
    (512, 115, 20, "cosine", "greedy", 4),
    (512, 115, 20, "cosine", "oblivious", 4),
    (512, 115, 20, "l2", "greedy", 4),
    (512, 115, 20, "l2", "oblivious", 4),
    (4096, 32, 4, "l2", "oblivious", 6),
]


def ensure_python():
    """Re-executes under the pinned venv (bench/compare/venv.sh) unless already there."""
    try:
        import numpy  # noqa: F401
        from importlib import metadata
        if metadata.version("gbrl") == GBRL_PIN.split("==")[1]:
            return
    except Exception:
        pass
    if os.environ.get("ORCHARD_GBRL_REEXEC"):
        sys.exit("gbrl.py: could not set up the pinned environment")
    py = subprocess.check_output(["bash", os.path.join(ROOT, "bench/compare/venv.sh"), "--no-deps",
                                  GBRL_PIN], text=True).strip().splitlines()[-1]
    os.environ["ORCHARD_GBRL_REEXEC"] = "1"
    os.execv(py, [py] + sys.argv)


def load_reference():
    import site
    dirs = site.getsitepackages() + [site.getusersitepackages()]
    for d in dirs:
        hits = glob.glob(os.path.join(d, "gbrl", "gbrl_cpp*.so"))
        if hits:
            spec = importlib.util.spec_from_file_location("gbrl_cpp", hits[0])
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    sys.exit("gbrl.py: gbrl_cpp extension not found")


def ref_model(m, np, f, d, score, growth, depth, n_bins=256):
    g = m.GBRL(input_dim=f, output_dim=d, policy_dim=d, max_depth=depth, min_data_in_leaf=0,
               n_bins=n_bins, split_score_func="L2" if score == "l2" else "cosine",
               generator_type="quantile", grow_policy=growth, device="cpu")
    g.set_optimizer(algo="SGD", scheduler="const", init_lr=1.0, start_idx=0, stop_idx=d)
    g.set_bias(np.zeros(d, dtype=np.float32))
    return g


def timed(fn, min_cpu, min_reps=3):
    fn()  # warm-up
    c0, w0, k = time.process_time(), time.perf_counter(), 0
    while time.process_time() - c0 < min_cpu or k < min_reps:
        fn()
        k += 1
    return (time.process_time() - c0) / k, (time.perf_counter() - w0) / k


def run_ours(build, flt, min_time):
    exe = os.path.join(ROOT, build, "bench", "bench_gbrl")
    if not os.path.exists(exe):
        sys.exit(f"gbrl.py: {exe} missing: meson compile -C {build} bench/bench_gbrl")
    out = subprocess.check_output([exe, f"--benchmark_filter={flt}", "--benchmark_format=json",
                                   f"--benchmark_min_time={min_time}"], text=True)
    res = {}
    for b in json.loads(out)["benchmarks"]:
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        res[b["name"]] = (b["cpu_time"] * scale, b["real_time"] * scale)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true", help="skip the slowest reference shapes")
    ap.add_argument("--only", choices=["fit", "predict"], help="run one half of the comparison")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    ensure_python()
    import numpy as np
    m = load_reference()
    rng = np.random.default_rng(0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"date {time.strftime('%Y-%m-%d')}, single thread, CPU ms (wall ms)")
    if args.only != "predict":
        compare_fit(args, m, np, rng)
    if args.only != "fit":
        compare_predict(args, m, np, rng)


def compare_fit(args, m, np, rng):
    ours = run_ours(args.build, "fit/.*threads:1$", 0.3)
    print(f"{'shape':34s} {'gbrl 1.1.9':>20s} {'orchard':>18s} {'speed-up':>9s}")
    for (n, f, d, score, growth, depth) in FIT:
        if args.quick and n * f * d > 500000:
            continue
        X = rng.standard_normal((n, f)).astype(np.float32)
        G = rng.standard_normal((n, d)).astype(np.float32)
        g = ref_model(m, np, f, d, score, growth, depth)
        rc, rw = timed(lambda: g.step(X, None, G), 1.0)
        key = f"fit/{n}x{f}x{d}/{score}/{growth}/depth{depth}/threads:1"
        oc, ow = ours[key]
        label = f"{n}x{f}x{d} {score} {growth} d{depth}"
        print(f"{label:34s} {rc*1e3:9.2f} ({rw*1e3:8.1f}) {oc:8.3f} ({ow:7.2f}) {rc*1e3/oc:8.1f}x")


def compare_predict(args, m, np, rng):
    # Prediction: ns per (sample x tree), 1000 depth-4 trees, D = 5, 2048 rows.
    ours_p = run_ours(args.build, "predict/.*/trees:1000/threads:1", 0.5)
    for growth in ("greedy", "oblivious"):
        X = rng.standard_normal((512, 16)).astype(np.float32)
        # 32 candidate bins keep the 1000 reference fits short; prediction walks depth-4 trees
        # whatever the bins were.
        g = ref_model(m, np, 16, 5, "cosine", growth, 4, n_bins=32)
        for t in range(1000):
            g.step(X, None, rng.standard_normal((512, 5)).astype(np.float32))
        Xp = rng.standard_normal((2048, 16)).astype(np.float32)
        rc, rw = timed(lambda: g.predict(Xp, None, 0, 0, False), 1.0)
        oc, ow = ours_p[f"predict/{growth}/trees:1000/threads:1"]
        per = 2048 * 1000
        print(f"predict {growth:9s} ns/(sample*tree): gbrl {rc*1e9/per:7.2f} ({rw*1e9/per:7.2f})  "
              f"orchard {oc*1e6/per:6.2f} ({ow*1e6/per:6.2f})  speed-up {rc*1e9/(oc*1e6):5.1f}x")


if __name__ == "__main__":
    main()
