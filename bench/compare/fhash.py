#!/usr/bin/env python3
"""Functional hashing: the official Python path vs Orchard, per candidate.

Anchor: google-research/unified_functional_hashing (not on PyPI; Apache-2.0). Its NAS-Bench-101
hasher mixes the 4 accuracies of a candidate with `significant_float_mix`: for every value, twice,
mix = SHA-256(str((mix, bits & mask))) read little-endian mod 2**63 (exponent mask, then the top-m
mantissa mask). The function below is re-expressed from that published definition with the
standard library only (hashlib, struct), so nothing needs installing; the repository's published
test value (m = 24 -> 5379572464749505659) is checked first.

Both sides hash the same random candidates in one run; every hash must agree (parity), then the
time per candidate of the Python path is compared with Orchard's parity path (same SHA-256 mixing,
in C++) and with Orchard's default XXH3 path. Times are CPU seconds per candidate, one core.
The anchor is not pip-installable, so bench/compare/venv.sh is not needed here.

Usage: python3 bench/compare/fhash.py [--build build] [--candidates 20000] [--mantissa 24]
"""
import argparse
import hashlib
import os
import random
import struct
import subprocess
import sys
import time


def significant_float_mix(values, mantissa_bits):
    exponent_mask = int("0" + 11 * "1" + 52 * "0", 2)
    mantissa_mask = int(12 * "0" + mantissa_bits * "1" + (52 - mantissa_bits) * "0", 2)

    def to_int(t):
        d = hashlib.sha256(bytes(str(t), "utf8")).digest()
        return int.from_bytes(d, "little", signed=False) % (2**63)

    def bits(v, m):
        return struct.unpack("<Q", struct.pack("<d", v))[0] & m

    mix = 0
    for v in values:
        mix = to_int((mix, bits(v, exponent_mask)))
        mix = to_int((mix, bits(v, mantissa_mask)))
    return mix


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    ap.add_argument("--candidates", type=int, default=20000)
    ap.add_argument("--mantissa", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    published = [0.5406650900840759, 0.14743590354919434, 0.5259414911270142, 0.15294471383094788]
    assert significant_float_mix(published, 24) == 5379572464749505659, "reference re-expression broken"

    rng = random.Random(args.seed)
    cands = [[rng.random() for _ in range(4)] for _ in range(args.candidates)]
    cands[0] = published

    # CPU time on both sides: the development machine is shared, wall time would measure the load.
    t0 = time.process_time()
    py = [significant_float_mix(c, args.mantissa) for c in cands]
    t_py = (time.process_time() - t0) / len(cands)

    exe = os.path.join(args.build, "examples", "fhash", "fhash_parity")
    text = "\n".join(" ".join(repr(v) for v in c) for c in cands) + "\n"
    proc = subprocess.run([exe, "--mantissa", str(args.mantissa)], input=text, capture_output=True,
                          text=True, check=True)
    ours = [int(x) for x in proc.stdout.split()]
    stats = dict(line.split() for line in proc.stderr.strip().splitlines())
    t_parity = float(stats["parity_s_per_candidate"])
    t_xxh3 = float(stats["xxh3_s_per_candidate"])

    mismatches = sum(a != b for a, b in zip(py, ours))
    print(f"candidates {len(cands)} (4 floats each), m = {args.mantissa}")
    print(f"parity: {len(cands) - mismatches}/{len(cands)} hashes identical; "
          f"published value {'ok' if ours[0] == 5379572464749505659 or args.mantissa != 24 else 'WRONG'}")
    print(f"python significant_float_mix : {t_py * 1e6:10.3f} us/candidate")
    print(f"orchard reference_sha256     : {t_parity * 1e6:10.3f} us/candidate  ({t_py / t_parity:8.1f}x)")
    print(f"orchard xxh3 (default)       : {t_xxh3 * 1e6:10.3f} us/candidate  ({t_py / t_xxh3:8.1f}x)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
