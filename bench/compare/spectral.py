#!/usr/bin/env python3
"""Compare orchard's `rankme` CLI with numpy on one matrix, in one run.

Generates one iid N(0,1) float32 matrix (numpy, fixed seed), saves it as .npy, then times on the
same file and with the same thread count:
  * numpy: np.linalg.svd(Z, compute_uv=False) and eigvalsh(Zᵀ Z) (float64 Gram), RankMe from each;
  * orchard: `rankme --json` on the Gram path, raw spectrum only (--no-centred, what numpy's svd
    computes) and with every metric (centred covariance too).
Prints both RankMe values (ε = 1e-7, 0, 1e-5), both times and the ratio, and which BLAS numpy
actually loaded (from /proc/self/maps, or threadpoolctl when installed). Finally checks that the
streaming path's peak memory does not grow with N (`rankme --gaussian N`).

    bench/compare/spectral.py [--rows 25600] [--cols 2048] [--threads 2] [--build build]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NUMPY_SNIPPET = r"""
import json, sys, time
import numpy as np
z = np.load(sys.argv[1])
out = {"numpy": np.__version__}
def rankme(s, eps):
    p = s / s.sum() + eps
    return float(np.exp(-(p * np.log(p)).sum()))
t = time.perf_counter(); s = np.linalg.svd(z, compute_uv=False); out["svd_s"] = time.perf_counter() - t
out["svd"] = {str(e): rankme(s, e) for e in (1e-7, 0.0, 1e-5)}
t = time.perf_counter()
zd = z.astype(np.float64); g = zd.T @ zd; lam = np.linalg.eigvalsh(g)
out["gram_eigvalsh_s"] = time.perf_counter() - t
s2 = np.sqrt(np.clip(lam[::-1][:min(z.shape)], 0, None))
out["gram"] = {str(e): rankme(s2, e) for e in (1e-7, 0.0, 1e-5)}
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l or "lapack" in l})
out["blas_libraries"] = libs
try:
    import threadpoolctl
    out["threadpoolctl"] = [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
                            for d in threadpoolctl.threadpool_info()]
except ImportError:
    out["threadpoolctl"] = "not installed"
print(json.dumps(out))
"""


def python_with_numpy():
    try:
        py = subprocess.run([os.path.join(ROOT, "bench", "compare", "venv.sh")], check=True,
                            capture_output=True, text=True).stdout.strip()
        subprocess.run([py, "-c", "import numpy"], check=True, capture_output=True)
        return py
    except (subprocess.CalledProcessError, OSError):
        return "/usr/bin/python3"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=25600)
    ap.add_argument("--cols", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    rankme = os.path.join(args.build, "examples", "spectral", "rankme")
    if not os.access(rankme, os.X_OK):
        sys.exit(f"{rankme} not found: meson compile -C {args.build} examples/spectral/rankme")
    py = python_with_numpy()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "z.npy")
        subprocess.run([py, "-c", "import numpy as np, sys; rng = np.random.default_rng(int(sys.argv[3]));"
                        "n, k = map(int, sys.argv[2].split('x'));"
                        "np.save(sys.argv[1], rng.standard_normal((n, k), dtype=np.float32))",
                        path, f"{args.rows}x{args.cols}", str(args.seed)], check=True, env=env)
        res = json.loads(subprocess.run([py, "-c", NUMPY_SNIPPET, path], check=True, env=env,
                                        capture_output=True, text=True).stdout)
        ours = {}
        for name, extra in (("raw", ["--no-centred"]), ("all", [])):
            t = time.perf_counter()
            out = subprocess.run([rankme, path, "--json", "--method", "gram", "--threads",
                                  str(args.threads)] + extra, check=True, env=env, capture_output=True,
                                 text=True).stdout
            wall = time.perf_counter() - t
            ours[name] = json.loads(out)
            ours[name]["wall"] = wall
    print(f"matrix: {args.rows} x {args.cols} float32, iid N(0,1) (numpy seed {args.seed}); threads {args.threads}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (machine shared with other builds)")
    print(f"numpy {res['numpy']} via {py}; BLAS/LAPACK libraries loaded: {', '.join(res['blas_libraries']) or 'none'}")
    print(f"threadpoolctl: {res['threadpoolctl']}")
    print(f"{'':32}{'eps 1e-7':>12}{'eps 0':>12}{'eps 1e-5':>12}{'seconds':>10}")
    print(f"{'numpy svd(compute_uv=False)':32}" + "".join(f"{res['svd'][e]:12.4f}" for e in ("1e-07", "0.0", "1e-05"))
          + f"{res['svd_s']:10.2f}")
    print(f"{'numpy eigvalsh(float64 Gram)':32}" + "".join(f"{res['gram'][e]:12.4f}" for e in ("1e-07", "0.0", "1e-05"))
          + f"{res['gram_eigvalsh_s']:10.2f}")
    for name, label in (("raw", "orchard gram (raw spectrum)"), ("all", "orchard gram (every metric)")):
        o = ours[name]
        print(f"{label:32}{o['rankme']:12.4f}{o['rankme_eps0']:12.4f}{o['rankme_eps1e-5']:12.4f}"
              f"{o['seconds']['spectrum']:10.2f}   (process {o['wall']:.2f} s incl. reading .npy)")
    rel = abs(ours["raw"]["rankme"] - res["svd"]["1e-07"]) / res["svd"]["1e-07"]
    print(f"relative RankMe difference orchard gram vs numpy svd: {rel:.2e}")
    print(f"time ratio orchard raw / numpy svd: {ours['raw']['seconds']['spectrum'] / res['svd_s']:.3f}"
          f"   every metric / numpy svd: {ours['all']['seconds']['spectrum'] / res['svd_s']:.3f}"
          f"   orchard raw / numpy Gram+eigvalsh: {ours['raw']['seconds']['spectrum'] / res['gram_eigvalsh_s']:.3f}")
    if not args.skip_memory:
        print("streaming peak memory (rankme --gaussian N --cols 256, blocks generated on the fly):")
        for n in (25600, 256000):
            o = json.loads(subprocess.run([rankme, "--gaussian", str(n), "--cols", "256", "--json",
                                           "--max-rows", "0", "--threads", str(args.threads)],
                                          check=True, env=env, capture_output=True, text=True).stdout)
            print(f"  N = {n:7d}: peak RSS {o['peak_rss_mib']:.1f} MiB, RankMe {o['rankme']:.4f}, "
                  f"{o['seconds']['spectrum']:.2f} s")


if __name__ == "__main__":
    main()
