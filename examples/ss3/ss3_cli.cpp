// ss3: train, classify, explain and grid-search SS3 text classifiers from the command line.
//
//   ss3 train    --data DIR [--format files|folders|fortunes] --out model.json|model.ss3b
//   ss3 classify --model M (--text "..." | --docs FILE | --data DIR [--format ...] [--test-every K])
//   ss3 explain  --model M (--text "..." | --file F) [--html out.html] [--json out.json]
//   ss3 grid     --data DIR [--format ...] --s 0.3,0.45 --l 0.5,1 --p 1 --a 0 [--cache file]
//   ss3 eval     --data DIR ... --test-every K [--io-repeats N] --out result.json   (split, timings)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <orchard/ss3.hpp>
#include <sstream>

namespace ss3 = orchard::ss3;

namespace {

struct DataOpts {
  std::string dir, format = "files";
  std::vector<std::string> categories;
};

ss3::Dataset load_data(const DataOpts& d) {
  if (d.format == "files") return ss3::load_category_files(d.dir);
  if (d.format == "folders") return ss3::load_category_folders(d.dir);
  if (d.format == "fortunes") return ss3::load_fortunes(d.dir.empty() ? "/usr/share/games/fortunes" : d.dir, d.categories);
  throw orchard::InvalidArgument("ss3: --format must be files, folders or fortunes, not '" + d.format + "'");
}

void add_data(CLI::App* app, DataOpts& d) {
  app->add_option("--data", d.dir, "Data folder (<cat>.txt files, <cat>/ folders, or the fortunes folder)");
  app->add_option("--format", d.format, "files | folders | fortunes")->capture_default_str();
  app->add_option("--categories", d.categories, "Fortunes categories to use (default: all)")->delimiter(',');
}

void add_params(CLI::App* app, ss3::Params& p, std::string& tok, std::string& sg) {
  app->add_option("--s", p.hyper.s, "sigma (smoothness)")->capture_default_str();
  app->add_option("--l", p.hyper.l, "lambda (significance)")->capture_default_str();
  app->add_option("--p", p.hyper.p, "rho (sanction)")->capture_default_str();
  app->add_option("--a", p.hyper.a, "alpha (cv threshold)")->capture_default_str();
  app->add_option("--ngrams", p.ngrams, "Longest n-gram learned")->capture_default_str();
  app->add_option("--tokenizer", tok, "pyss3 | unicode")->capture_default_str();
  app->add_option("--sg", sg, "Significance: xai | vanilla")->capture_default_str();
}

/// The median (the mean of the middle two for an even count) of a non-empty list.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool progress_bar(const ss3::Progress& p) {
  const int width = 30;
  const int fill = p.total > 0 ? static_cast<int>(width * p.done / p.total) : width;
  std::cerr << "\r" << p.stage << " [" << std::string(static_cast<std::size_t>(fill), '#')
            << std::string(static_cast<std::size_t>(width - fill), ' ') << "] " << p.done << "/" << p.total;
  if (p.done >= p.total) std::cerr << "\n";
  return true;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw orchard::IoError("ss3: cannot open '" + path + "'");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SS3 text classification (orchard::ss3)"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "Threads (0 = all)");

  // train
  auto* train = app.add_subcommand("train", "Train a model and save it");
  DataOpts tdata;
  ss3::Params tparams;
  std::string ttok = "unicode", tsg = "xai", tout;
  add_data(train, tdata);
  add_params(train, tparams, ttok, tsg);
  train->add_option("--out", tout, "Model file (.ss3b = binary, otherwise JSON)")->required();

  // classify
  auto* cls = app.add_subcommand("classify", "Classify documents");
  std::string cmodel, ctext, cdocs, cjson;
  DataOpts cdata;
  int cevery = 0;
  cls->add_option("--model", cmodel, "Model file (ours or a pyss3 .ss3m)")->required();
  cls->add_option("--text", ctext, "One document");
  cls->add_option("--docs", cdocs, "A file with one document per line");
  add_data(cls, cdata);
  cls->add_option("--test-every", cevery, "Use only documents i with i % K == 0 of --data");
  cls->add_option("--json", cjson, "Write labels and confidence vectors to this JSON file");

  // explain
  auto* ex = app.add_subcommand("explain", "Explain a classification (JSON and HTML)");
  std::string emodel, etext, efile, ehtml, ejson;
  ex->add_option("--model", emodel, "Model file")->required();
  ex->add_option("--text", etext, "The document");
  ex->add_option("--file", efile, "A file holding the document");
  ex->add_option("--html", ehtml, "Write a self-contained HTML page here");
  ex->add_option("--json", ejson, "Write the explanation JSON here");

  // grid / eval
  auto* grid = app.add_subcommand("grid", "Grid search over s, l, p, a on a train/test split");
  auto* ev = app.add_subcommand("eval", "Train on a split, classify the rest, report accuracy and timings");
  DataOpts gdata;
  ss3::Params gparams;
  std::string gtok = "unicode", gsg = "xai", gcache, gout, gterms;
  ss3::Grid g;
  int gevery = 5;
  for (auto* sc : {grid, ev}) {
    add_data(sc, gdata);
    sc->add_option("--test-every", gevery, "Documents i with i % K == 0 form the test set")->capture_default_str();
    sc->add_option("--out", gout, "Write results as JSON here");
  }
  add_params(ev, gparams, gtok, gsg);
  ev->add_option("--terms", gterms, "A file of n-grams (one per line) whose cv values to report");
  int io_repeats = 1;
  ev->add_option("--io-repeats", io_repeats, "Model file round trips to time (save_s / load_s: their medians)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  grid->add_option("--ngrams", gparams.ngrams, "Longest n-gram learned")->capture_default_str();
  grid->add_option("--tokenizer", gtok, "pyss3 | unicode")->capture_default_str();
  grid->add_option("--s", g.s, "sigma values")->delimiter(',');
  grid->add_option("--l", g.l, "lambda values")->delimiter(',');
  grid->add_option("--p", g.p, "rho values")->delimiter(',');
  grid->add_option("--a", g.a, "alpha values")->delimiter(',');
  grid->add_option("--cache", gcache, "Cache file of evaluated points (read and updated)");

  CLI11_PARSE(app, argc, argv);
  try {
    const orchard::Context ctx(threads);
    if (*train) {
      tparams.tokenizer = ss3::parse_tokenizer_mode(ttok);
      tparams.sg_mode = ss3::parse_sg_mode(tsg);
      const auto d = load_data(tdata);
      ss3::Model m(tparams);
      const auto t0 = std::chrono::steady_clock::now();
      m.fit(d.docs, d.labels, ctx, progress_bar);
      std::cout << "trained on " << d.docs.size() << " documents, " << m.num_categories() << " categories, "
                << m.num_words() << " words, " << m.num_terms() << " terms in " << seconds_since(t0) << " s\n";
      ss3::save(m, tout);
      std::cout << "saved " << tout << "\n";
    } else if (*cls) {
      const ss3::Model m = ss3::load(cmodel, ctx);
      std::vector<std::string> docs, truth;
      if (!ctext.empty()) docs.push_back(ctext);
      if (!cdocs.empty()) docs = read_lines(cdocs);
      if (!cdata.dir.empty() || cdata.format == "fortunes") {
        const auto d = load_data(cdata);
        for (std::size_t i = 0; i < d.docs.size(); ++i)
          if (cevery <= 1 || i % static_cast<std::size_t>(cevery) == 0) docs.push_back(d.docs[i]), truth.push_back(d.labels[i]);
      }
      if (docs.empty()) throw orchard::InvalidArgument("ss3 classify: give --text, --docs or --data");
      const auto t0 = std::chrono::steady_clock::now();
      const auto pred = m.predict(docs, ctx);
      const double sec = seconds_since(t0);
      nlohmann::json out;
      std::size_t correct = 0;
      for (std::size_t i = 0; i < docs.size(); ++i) {
        const std::string label = pred[i] < 0 ? "[unknown]" : m.category_name(pred[i]);
        out["labels"].push_back(label);
        if (!truth.empty()) correct += label == truth[i];
        if (docs.size() <= 20) std::cout << label << "\t" << docs[i].substr(0, 60) << "\n";
      }
      std::cout << docs.size() << " documents in " << sec << " s (" << docs.size() / std::max(sec, 1e-9) << " docs/s)\n";
      if (!truth.empty()) std::cout << "accuracy " << static_cast<double>(correct) / static_cast<double>(docs.size()) << "\n";
      if (!cjson.empty()) {
        for (const auto& d : docs) out["proba"].push_back(m.predict_proba(d));
        std::ofstream(cjson) << out.dump();
      }
    } else if (*ex) {
      const ss3::Model m = ss3::load(emodel, ctx);
      std::string doc = etext;
      if (!efile.empty()) doc = ss3::detail::read_file(efile);
      const auto j = ss3::explain(m, doc);
      std::cout << "predicted: " << m.categories()[j["cvns"][0][0].get<std::size_t>()] << "\n";
      for (const auto& [text, cv] : ss3::extract_insight(m, doc, -1, ss3::InsightLevel::word, 2))
        std::cout << "  " << cv << "\t" << text << "\n";
      if (!ejson.empty()) std::ofstream(ejson) << j.dump(1);
      if (!ehtml.empty()) {
        std::ofstream(ehtml) << ss3::explain_html(m, doc);
        std::cout << "wrote " << ehtml << "\n";
      }
    } else if (*grid || *ev) {
      gparams.tokenizer = ss3::parse_tokenizer_mode(gtok);
      gparams.sg_mode = ss3::parse_sg_mode(gsg);
      const auto d = load_data(gdata);
      std::vector<std::string> xtr, ytr, xte, yte;
      for (std::size_t i = 0; i < d.docs.size(); ++i) {
        const bool test = gevery > 1 && i % static_cast<std::size_t>(gevery) == 0;
        (test ? xte : xtr).push_back(d.docs[i]);
        (test ? yte : ytr).push_back(d.labels[i]);
      }
      if (xte.empty()) xte = xtr, yte = ytr;
      ss3::Model m(gparams);
      auto t0 = std::chrono::steady_clock::now();
      m.fit(xtr, ytr, ctx);
      const double train_s = seconds_since(t0);
      nlohmann::json out{{"train_docs", xtr.size()}, {"test_docs", xte.size()}, {"train_s", train_s},
                         {"categories", m.categories()}, {"words", m.num_words()}};
      if (*ev) {
        // keep only test documents of categories the model knows
        std::vector<std::string> kx, ky;
        for (std::size_t i = 0; i < xte.size(); ++i)
          if (m.find_category(yte[i]) >= 0) kx.push_back(xte[i]), ky.push_back(yte[i]);
        t0 = std::chrono::steady_clock::now();
        const auto pred = m.predict(kx, ctx);
        const double pred_s = seconds_since(t0);
        const auto r = ss3::evaluate(ss3::label_indices(m, ky), pred, m.num_categories());
        out["predict_s"] = pred_s;
        out["accuracy"] = r.accuracy;
        out["macro_f1"] = r.macro_f1;
        // model file round trips (binary, a new file each), timed as bench/compare/ss3.py times
        // pyss3's: the first in this process, and the medians over all of them
        std::vector<double> save_s, load_s, both_s;
        for (int r = 0; r < io_repeats; ++r) {
          const std::string mp = (std::filesystem::temp_directory_path() /
                                  ("ss3_eval_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".ss3b")).string();
          t0 = std::chrono::steady_clock::now();
          ss3::save(m, mp);
          save_s.push_back(seconds_since(t0));
          t0 = std::chrono::steady_clock::now();
          const ss3::Model back = ss3::load(mp, ctx);
          load_s.push_back(seconds_since(t0));
          both_s.push_back(save_s.back() + load_s.back());
          out["model_bytes"] = std::filesystem::file_size(mp);
          std::filesystem::remove(mp);
          if (back.num_terms() != m.num_terms()) throw std::runtime_error("model round trip changed the model");
        }
        out["save_first_s"] = save_s.front();
        out["load_first_s"] = load_s.front();
        out["save_s"] = median(save_s);
        out["load_s"] = median(load_s);
        out["save_load_s"] = median(both_s);
        for (int p : pred) out["labels"].push_back(p < 0 ? "[unknown]" : m.category_name(p));
        for (const auto& x : kx) out["proba"].push_back(m.predict_proba(x));
        if (!gterms.empty())
          for (const auto& t : read_lines(gterms)) {
            nlohmann::json row = nlohmann::json::array();
            for (const auto& c : m.categories()) row.push_back(m.cv(t, c));
            out["cv"][t] = row;
          }
        std::cout << "train " << train_s << " s, predict " << pred_s << " s (" << kx.size() << " docs), accuracy "
                  << r.accuracy << ", macro F1 " << r.macro_f1 << "\n";
      } else {
        ss3::GridCache cache;
        if (!gcache.empty() && std::ifstream(gcache)) cache.load(gcache);
        t0 = std::chrono::steady_clock::now();
        const auto res = ss3::grid_search(m, xte, yte, g, ctx, gcache.empty() ? nullptr : &cache,
                                          gdata.dir + "|" + gdata.format, progress_bar);
        std::cout << res.points.size() << " points in " << seconds_since(t0) << " s; best s=" << res.best.hyper.s
                  << " l=" << res.best.hyper.l << " p=" << res.best.hyper.p << " a=" << res.best.hyper.a
                  << " accuracy " << res.best.accuracy << " macro F1 " << res.best.macro_f1 << "\n";
        for (const auto& p : res.points)
          out["points"].push_back({{"s", p.hyper.s}, {"l", p.hyper.l}, {"p", p.hyper.p}, {"a", p.hyper.a},
                                   {"accuracy", p.accuracy}, {"macro_f1", p.macro_f1}, {"cached", p.cached}});
        if (!gcache.empty()) cache.save(gcache);
      }
      if (!gout.empty()) std::ofstream(gout) << out.dump();
    }
  } catch (const orchard::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
