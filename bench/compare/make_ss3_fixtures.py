#!/usr/bin/env python3
"""Generates tests/ss3/fixtures/*.json: reference outputs of pyss3 (pinned version) that the
orchard::ss3 tests compare against. Run:  $(bench/compare/venv.sh pyss3==0.6.5) bench/compare/make_ss3_fixtures.py
Data: ../shared/data/ss3/{topic,movie_review_tiny} (read here, never copied: only our outputs are
written)."""
import json
import os
import sys
from pathlib import Path

import pyss3
from pyss3 import SS3
from pyss3.util import Preproc as Pp

assert pyss3.__version__ == "0.6.5", pyss3.__version__
root = Path(__file__).resolve().parents[2]
data = Path(os.environ.get("ORCHARD_DATA_DIR", root.parent / "shared" / "data")) / "ss3"
out = root / "tests" / "ss3" / "fixtures"
out.mkdir(parents=True, exist_ok=True)
pyss3.set_verbosity(0)

TOKEN_CASES = [
    "Hello, World! This is a TEST.", "It's 3.5 degrees: 25°C or 77 F today.",
    "I paid $ 30,50 and 45 % more on 12/05/2020 -- 1.2.3", "#tag1 #tag2  #Tag3 # x #9",
    "Café naïve résumé Ångström coöperate", "ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ Σ ΑΣ.", "ﬁne ﬂow ½ ² ｆｕｌｌ ｗｉｄｔｈ",
    "don't won't 'quoted' rock'n'roll", "line one\nline two\n\nline three", "tab\tsep\r\nwin",
    "(parens) [brackets] <angles> a=b|c/d \"dq\"", "snake_case and CamelCase 42nd 3rd",
    "한국어 텍스트 日本語のテキスト", "x2.5y 10,000,000 3,14 .5 5. 1e10", "emoji 😀 ok…",
    "İstanbul ǅemal ß ﬀ", "3.5 and 3,5 and 3 .5", "25 c, 30C. 40 f? 50 °F 60 ºC",
    "a.b.c d:e;f?g!h", "", "   ", "...", "#", "#a", "##b", "x#y",
]


def tokens():
    return [{"text": t, "dots": Pp.clean_and_ready(t), "nodots": Pp.clean_and_ready(t, dots=False)}
            for t in TOKEN_CASES]


def load_lines(folder):
    x, y = [], []
    for f in sorted(os.listdir(folder)):
        with open(folder / f, encoding="utf-8") as fh:
            docs = fh.read().split("\n")
        for d in docs:
            if d.strip():
                x.append(d)
                y.append(os.path.splitext(f)[0])
    return x, y


def load_folders(folder):
    x, y = [], []
    for cat in sorted(os.listdir(folder)):
        for f in sorted(os.listdir(folder / cat)):
            with open(folder / cat / f, encoding="utf-8") as fh:
                x.append(fh.read())
                y.append(cat)
    return x, y


def terms_of(clf, n, limit):
    """Some n-grams of the model (deterministic choice), as space-separated words."""
    res = []
    for icat in range(len(clf.get_categories())):
        vocab = getattr(clf, "__categories__")[icat][1]

        def walk(node, prefix):
            for w in sorted(node):
                seq = prefix + [clf.get_word(w)]
                if len(seq) == n:
                    res.append(" ".join(seq))
                elif node[w][0]:
                    walk(node[w][0], seq)
        walk(vocab, [])
    res = sorted(set(res))
    step = max(1, len(res) // limit)
    return res[::step][:limit]


def model_case(name, x, y, ngrams, probe, hyper=None, sg_m="xai", lim=(40, 20)):
    """probe: (indices into x, extra synthetic documents); only indices and our outputs are
    stored, never the data's text."""
    clf = SS3(sg_m=sg_m) if hyper is None else SS3(*hyper, sg_m=sg_m)
    clf.fit(x, y, n_grams=ngrams)
    cats = clf.get_categories()
    terms = []
    for n in range(1, ngrams + 1):
        terms += terms_of(clf, n, lim[0] if n == 1 else lim[1])
    if "chicken" not in terms and name.startswith("topic"):
        terms.append("chicken")
    values = {t: {c: [clf.lv(t, c), clf.sg(t, c), clf.sn(t, c), clf.gv(t, c), clf.cv(t, c)]
                  for c in cats} for t in terms}
    ids, extra = probe
    docs = [x[i] for i in ids] + extra
    return {
        "name": name, "ngrams": ngrams, "hyper": list(clf.get_hyperparameters()), "sg_mode": sg_m,
        "categories": cats, "most_probable": clf.get_most_probable_category(),
        "ngrams_length": clf.get_ngrams_length(),
        "num_words": len(getattr(clf, "__index_to_word__")),
        "max_fr": getattr(clf, "__max_fr__"), "max_gv": getattr(clf, "__max_gv__"),
        "values": values,
        "doc_ids": ids, "extra_docs": extra,
        "predict": clf.predict(docs),
        "proba": [list(map(float, v)) for v in clf.predict_proba(docs)],
        "classify": [list(map(float, clf.classify(d, sort=False))) for d in docs],
        "classify_label": [clf.classify_label(d) for d in docs],
        "multilabel": [clf.classify_multilabel(d) for d in docs],
    }, clf


def main():
    res = {"pyss3": pyss3.__version__, "python": sys.version.split()[0], "tokens": tokens()}
    tx, ty = load_lines(data / "topic")
    extra = ["chicken pasta and a glass of wine", "3.5 stars... the game, 2-1!",
             "nothing known here zzqx", "", "Fashion week: new dress & makeup.\nStocks fell 3.5%"]
    probe = (list(range(0, len(tx), 23))[:40], extra)
    c1, clf1 = model_case("topic_words", tx, ty, 1, probe)
    c3, _ = model_case("topic_3grams", tx, ty, 3, probe, lim=(20, 20))
    c1b, _ = model_case("topic_words_h", tx, ty, 1, (probe[0][:15], extra), hyper=(0.32, 1.24, 1.1, 0.1), lim=(20, 0))
    c1v, _ = model_case("topic_words_vanilla", tx, ty, 1, (probe[0][:8], extra), sg_m="vanilla", lim=(20, 0))
    mx, my = load_folders(data / "movie_review_tiny")
    c2, clf2 = model_case("movie_2grams", mx, my, 2, ([0, 5, 10, 15],
                        ["a great and wonderful movie", "the worst film, boring and bad acting",
                         "I loved the story. Terrible ending though!", "Great, great acting.\nBad plot"]))
    res["models"] = [c1, c3, c1b, c1v, c2]
    res["explain"] = [{"doc": d, "json": clf1.classify(d, json=True)} for d in
                      ["Chicken soup, great taste.\nThe team won 3.5 games!", "music: rock & roll"]]
    res["insight"] = [list(map(list, clf1.extract_insight(
        "Chicken soup, great taste.\nThe team won 3.5 games!", cat="food", window_size=1)))]
    from pyss3.util import Dataset
    ml = data / "multilabel_tiny" / "train"
    mlx, mly = Dataset.load_from_files_multilabel(str(ml / "docs.txt"), str(ml / "labels.txt"),
                                                  sep_label=",", sep_doc="\n>>>>>\n")
    mclf = SS3()
    mclf.fit(mlx, mly)
    res["multilabel_tiny"] = {
        "categories": mclf.get_categories(), "n_docs": len(mlx),
        "predict": mclf.predict(mlx),
        "classify": [list(map(float, mclf.classify(d, sort=False))) for d in mlx],
        "classify_multilabel": [mclf.classify_multilabel(d) for d in mlx]}
    (out / "pyss3_reference.json").write_text(json.dumps(res, ensure_ascii=False))
    clf2.set_model_path(str(out))
    setattr(clf2, "__name__", "movie_2grams")
    clf2.save_model(str(out))
    for f in out.rglob("*.ss3m"):
        print(f, f.stat().st_size)
    print("wrote", out / "pyss3_reference.json", (out / "pyss3_reference.json").stat().st_size)


main()
