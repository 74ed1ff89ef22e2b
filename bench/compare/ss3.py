#!/usr/bin/env python3
"""pyss3 vs orchard::ss3 on the same data, in one run: training, prediction and model save + load
time (one thread; pyss3's .ss3m JSON vs our binary file),
accuracy, and parity (every predicted label, every confidence vector, cv of sampled terms).

    python3 bench/compare/ss3.py [--build build] [--quick]

Anchor: pyss3==0.6.5 from PyPI (installed by bench/compare/venv.sh; nothing stubbed). Data: the
pyss3 topic fixture (../shared/data/ss3/topic), the Debian fortunes corpus
(/usr/share/games/fortunes) and, at the scale of the spec's save / load anchor (a 96 k-word,
10-category model), a seeded synthetic corpus (see `synthetic_corpus`; not with --quick). Split: documents i with i % 5 == 0 are the test set (files read in
sorted order, as our loaders do). Model files: IO_REPEATS save + load round trips on each side,
reported as the median and, separately, the first (the cold one)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYSS3 = "pyss3==0.6.5"
root = Path(__file__).resolve().parents[2]
IO_REPEATS = 11


def ensure_venv():
    if os.environ.get("ORCHARD_SS3_IN_VENV"):
        return
    py = subprocess.check_output([str(root / "bench/compare/venv.sh"), PYSS3], text=True).strip()
    env = dict(os.environ, ORCHARD_SS3_IN_VENV="1")
    sys.exit(subprocess.call([py, __file__] + sys.argv[1:], env=env))


def blank(s):
    return not s.strip(" \t\n\r\f\v")


def load_files(d):
    x, y = [], []
    for f in sorted(os.listdir(d)):
        if not f.endswith(".txt"):
            continue
        with open(os.path.join(d, f), encoding="utf-8") as fh:
            for line in fh.read().split("\n"):
                if not blank(line):
                    x.append(line)
                    y.append(f[:-4])
    return x, y


def load_fortunes(d, cats=None):
    x, y = [], []
    cats = cats or sorted(f for f in os.listdir(d) if "." not in f and os.path.isfile(os.path.join(d, f)))
    for c in cats:
        raw = open(os.path.join(d, c), "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        entry = ""
        for line in text.split("\n"):
            if line == "%":
                if not blank(entry):
                    x.append(entry)
                    y.append(c)
                entry = ""
            else:
                entry += line + "\n"
        if not blank(entry):
            x.append(entry)
            y.append(c)
    return x, y


def synthetic_corpus(d, vocab=100_000, cats=10, docs_per_cat=2500, words_per_doc=50, seed=7):
    """Writes <category>.txt files (one document per line) whose model has about as many words as
    the spec's anchor model: each token is drawn four times in five from a Zipf(1) ranking of the whole
    vocabulary shared by all categories and otherwise from the category's own random ranking;
    a sentence ends every 12 words. Returns the documents and labels in load_files order."""
    import random
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < vocab:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    words = sorted(words)
    rng.shuffle(words)
    cum, acc = [], 0.0
    for r in range(vocab):
        acc += 1.0 / (r + 1)
        cum.append(acc)
    os.makedirs(d, exist_ok=True)
    for c in range(cats):
        own = words[:]
        rng.shuffle(own)
        n = docs_per_cat * words_per_doc
        shared = rng.choices(words, cum_weights=cum, k=n)
        mine = rng.choices(own, cum_weights=cum, k=n)
        toks = [shared[i] if rng.random() < 0.8 else mine[i] for i in range(n)]
        lines = []
        for k in range(docs_per_cat):
            doc = toks[k * words_per_doc:(k + 1) * words_per_doc]
            lines.append(" ".join(w + (" ." if (i + 1) % 12 == 0 else "") for i, w in enumerate(doc)))
        with open(os.path.join(d, "c%02d.txt" % c), "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    return load_files(d)


def run_case(name, x, y, ngrams, ours_args, exe, tmp):
    from pyss3 import SS3
    xtr = [d for i, d in enumerate(x) if i % 5]
    ytr = [l for i, l in enumerate(y) if i % 5]
    xte = [d for i, d in enumerate(x) if i % 5 == 0]
    yte = [l for i, l in enumerate(y) if i % 5 == 0]
    clf = SS3()
    t0 = time.perf_counter()
    clf.fit(xtr, ytr, n_grams=ngrams)
    py_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    py_pred = clf.predict(xte)
    py_pred_s = time.perf_counter() - t0
    py_proba = clf.predict_proba(xte)
    # model file round trips: pyss3's JSON .ss3m against our binary file (both to the same disk,
    # a new folder / file each time); the first and the median of IO_REPEATS
    py_io = []
    for r in range(IO_REPEATS):
        mdir = Path(tmp) / ("pyss3_model_%s_%d_%d" % (name, ngrams, r))
        t0 = time.perf_counter()
        clf.save_model(str(mdir))
        py_save = time.perf_counter() - t0
        clf2 = SS3(name=clf.get_name())
        t0 = time.perf_counter()
        clf2.load_model(str(mdir))
        py_io.append(py_save + time.perf_counter() - t0)
    cats = clf.get_categories()
    # sampled terms: every 7th word of the vocabulary plus a few n-grams
    words = sorted(getattr(clf, "__index_to_word__").values())[::7][:400]
    terms = list(words)
    if ngrams > 1:
        for icat in range(len(cats)):
            vocab = getattr(clf, "__categories__")[icat][1]
            for w in sorted(vocab)[:200]:
                for w2 in sorted(vocab[w][0])[:2]:
                    terms.append(clf.get_word(w) + " " + clf.get_word(w2))
    terms = sorted(set(terms))
    tf = Path(tmp) / "terms.txt"
    tf.write_text("\n".join(terms) + "\n", encoding="utf-8")
    out = Path(tmp) / "ours.json"
    cmd = [exe, "--threads", "1", "eval", "--test-every", "5", "--ngrams", str(ngrams),
           "--tokenizer", "pyss3", "--terms", str(tf), "--io-repeats", str(IO_REPEATS), "--out", str(out)] + ours_args
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ours = json.loads(out.read_text(encoding="utf-8"))
    assert ours["categories"] == cats, (ours["categories"], cats)
    same = sum(a == b for a, b in zip(ours["labels"], py_pred))
    pmax = max(abs(a - b) for u, v in zip(ours["proba"], py_proba) for a, b in zip(u, v))
    cmax = max(abs(ours["cv"][t][i] - clf.cv(t, c)) for t in terms for i, c in enumerate(cats))
    acc_py = sum(a == b for a, b in zip(py_pred, yte)) / len(yte)
    ntok = sum(len(d.split()) for d in xtr)
    return {
        "case": name, "ngrams": ngrams, "categories": len(cats), "train_docs": len(xtr),
        "test_docs": len(xte), "train_words": ntok,
        "pyss3_train_s": py_train, "ours_train_s": ours["train_s"],
        "pyss3_predict_s": py_pred_s, "ours_predict_s": ours["predict_s"],
        "pyss3_save_load_s": statistics.median(py_io), "ours_save_load_s": ours["save_load_s"],
        "pyss3_save_load_first_s": py_io[0], "ours_save_load_first_s": ours["save_first_s"] + ours["load_first_s"],
        "pyss3_accuracy": acc_py, "ours_accuracy": ours["accuracy"],
        "labels_identical": f"{same}/{len(xte)}", "max_proba_diff": pmax,
        "terms_compared": len(terms) * len(cats), "max_cv_diff": cmax,
    }


def main():
    ensure_venv()
    import pyss3
    pyss3.set_verbosity(0)
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(root / "build"))
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    exe = str(Path(a.build) / "examples/ss3/ss3")
    data = Path(os.environ.get("ORCHARD_DATA_DIR", root.parent / "shared/data")) / "ss3"
    fort = "/usr/share/games/fortunes"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if (data / "topic").is_dir():
            x, y = load_files(data / "topic")
            for n in (1, 3):
                rows.append(run_case("topic", x, y, n, ["--data", str(data / "topic"), "--format", "files"], exe, tmp))
        if os.path.isdir(fort):
            cats = ["computers", "food", "love", "medicine", "science", "sports"] if a.quick else None
            x, y = load_fortunes(fort, cats)
            extra = ["--data", fort, "--format", "fortunes"] + (["--categories", ",".join(cats)] if cats else [])
            for n in (1, 3):
                rows.append(run_case("fortunes", x, y, n, extra, exe, tmp))
        if not a.quick:
            synth = os.path.join(tmp, "synthetic")
            x, y = synthetic_corpus(synth)
            rows.append(run_case("synthetic", x, y, 1, ["--data", synth, "--format", "files"], exe, tmp))
    print(f"pyss3 {pyss3.__version__} vs orchard::ss3, one thread each")
    hdr = ("case", "n", "C", "train words", "train py/ours s", "x", "predict py/ours s", "x",
           "save+load py/ours s (median of %d)" % IO_REPEATS, "x", "first save+load x",
           "acc py/ours", "labels same", "max|dcv|", "max|dproba|")
    print(" | ".join(hdr))
    for r in rows:
        print(" | ".join([
            r["case"], str(r["ngrams"]), str(r["categories"]), str(r["train_words"]),
            "%.3f/%.3f" % (r["pyss3_train_s"], r["ours_train_s"]),
            "%.1f" % (r["pyss3_train_s"] / max(r["ours_train_s"], 1e-9)),
            "%.3f/%.3f" % (r["pyss3_predict_s"], r["ours_predict_s"]),
            "%.1f" % (r["pyss3_predict_s"] / max(r["ours_predict_s"], 1e-9)),
            "%.3f/%.4f" % (r["pyss3_save_load_s"], r["ours_save_load_s"]),
            "%.1f" % (r["pyss3_save_load_s"] / max(r["ours_save_load_s"], 1e-9)),
            "%.1f" % (r["pyss3_save_load_first_s"] / max(r["ours_save_load_first_s"], 1e-9)),
            "%.4f/%.4f" % (r["pyss3_accuracy"], r["ours_accuracy"]), r["labels_identical"],
            "%.1e" % r["max_cv_diff"], "%.1e" % r["max_proba_diff"]]))
    print(json.dumps(rows))


main()
