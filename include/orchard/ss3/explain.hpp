#pragma once
// Explanations of SS3 decisions: the per paragraph / sentence / word confidence vectors of pyss3's
// classify(json=True) as JSON, pyss3's extract_insight, and a self-contained HTML page that
// highlights the text by confidence for a category.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "model.hpp"

namespace orchard::ss3 {

namespace detail {
inline std::vector<double> vmax(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = std::max(a[i], b[i]);
  return r;
}
inline std::vector<double> vsum(const std::vector<std::vector<double>>& v, std::size_t C) {
  std::vector<double> r(C, 0.0);
  for (const auto& x : v)
    for (std::size_t i = 0; i < C; ++i) r[i] += x[i];
  return r;
}
}  // namespace detail

/// pyss3's classify(doc, json=True): {"pars": [{"sents": [{"words": [{token, lexeme, cv, lv,
/// fr}], cv, wmv}], cv, wmv}], cv, wmv, cvns, ci}.
inline nlohmann::json explain(const Model& m, std::string_view doc, const SummaryOps& ops = {}) {
  if (m.num_categories() == 0) throw StateError("orchard::ss3: the model has no categories");
  const std::size_t C = m.num_categories();
  const ValueTable& vt = m.values();
  const std::vector<double> zero(C, 0.0);
  auto fold = [&](const SummaryFn& f, const std::vector<std::vector<double>>& v) {
    return f ? f(v) : detail::vsum(v, C);
  };
  nlohmann::json pars = nlohmann::json::array();
  std::vector<std::vector<double>> par_cvs;
  std::vector<double> doc_wmv = zero;
  for (const auto& para : m.tokenizer().structure(doc, true)) {
    nlohmann::json sents = nlohmann::json::array();
    std::vector<std::vector<double>> sent_cvs;
    std::vector<double> par_wmv = zero;
    for (const auto& sent : para.sentences) {
      EncodedDoc e;
      for (const auto& pc : sent.pieces) {
        e.word.push_back(m.word_index(pc.key));
        e.space.push_back(pc.space_start ? 1 : 0);
      }
      std::vector<std::int64_t> parsed;
      std::vector<std::size_t> spans;
      m.parse_sentence(e, 0, e.word.size(), vt, parsed, &spans);
      nlohmann::json words = nlohmann::json::array();
      std::vector<std::vector<double>> cvs;
      std::vector<double> wmv;
      std::size_t at = 0;
      for (std::size_t k = 0; k < parsed.size(); ++k) {
        std::string lexeme;
        for (std::size_t q = at; q < at + spans[k]; ++q) lexeme += sent.pieces[q].raw;
        at += spans[k];
        const std::int64_t t = parsed[k];
        std::string token;
        std::vector<double> lv(C, 0.0);
        std::vector<std::int64_t> fr(C, 0);
        if (t >= 0) {
          for (auto w : m.term_words(t)) {
            if (!token.empty()) token += "\u2192";
            token += m.words()[static_cast<std::size_t>(w)];
          }
          for (std::size_t c = 0; c < C; ++c) {
            lv[c] = vt.at(vt.lv, static_cast<std::size_t>(t), c);
            fr[c] = m.count(t, c);
          }
        }
        auto cv = m.term_cv(t, vt);
        wmv = wmv.empty() ? cv : detail::vmax(wmv, cv);
        words.push_back({{"token", token}, {"lexeme", lexeme}, {"cv", cv}, {"lv", lv}, {"fr", fr}});
        cvs.push_back(std::move(cv));
      }
      const auto scv = fold(ops.ngrams, cvs);
      if (wmv.empty()) wmv = zero;
      par_wmv = sent_cvs.empty() ? wmv : detail::vmax(par_wmv, wmv);
      sent_cvs.push_back(scv);
      sents.push_back({{"words", words}, {"cv", scv}, {"wmv", wmv}});
    }
    const auto pcv = sent_cvs.empty() ? zero : fold(ops.sentences, sent_cvs);
    doc_wmv = par_cvs.empty() ? par_wmv : detail::vmax(doc_wmv, par_wmv);
    par_cvs.push_back(pcv);
    pars.push_back({{"sents", sents}, {"cv", pcv}, {"wmv", par_wmv}});
  }
  const auto cv = par_cvs.empty() ? zero : fold(ops.paragraphs, par_cvs);
  const double maxv = *std::max_element(cv.begin(), cv.end());
  std::vector<std::size_t> order(C);
  for (std::size_t i = 0; i < C; ++i) order[i] = i;
  std::vector<double> norm(C);
  for (std::size_t i = 0; i < C; ++i) norm[i] = maxv > 1 ? cv[i] / maxv : cv[i];
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return norm[a] > norm[b]; });
  nlohmann::json cvns = nlohmann::json::array();
  for (auto i : order) cvns.push_back({i, norm[i], cv[i]});
  return {{"pars", pars}, {"cv", cv}, {"wmv", doc_wmv}, {"cvns", cvns}, {"ci", m.categories()}};
}

enum class InsightLevel { word, sentence, paragraph };

/// pyss3's extract_insight: text blocks that drove the decision for category `cat` (-1 = the
/// predicted one), with their confidence; word windows of `window` words around each hit merge.
inline std::vector<std::pair<std::string, double>> extract_insight(
    const Model& m, std::string_view doc, int cat = -1, InsightLevel level = InsightLevel::word,
    int window = 3, double min_cv = 0.01, bool sort = true) {
  require(window >= 0, "window", window, "must be >= 0");
  const nlohmann::json r = explain(m, doc);
  const std::size_t ci = cat < 0 ? r["cvns"][0][0].get<std::size_t>() : static_cast<std::size_t>(cat);
  require(ci < m.num_categories(), "cat", cat, "out of range");
  std::vector<std::pair<std::string, double>> out;
  auto is_word = [](const std::string& s) {
    std::u32string u = unicode::decode_utf8(s);
    for (auto c : u)
      if (unicode::is_word(c)) return true;
    return false;
  };
  for (const auto& p : r["pars"]) {
    if (level == InsightLevel::paragraph) {
      std::string text;
      for (const auto& s : p["sents"])
        for (const auto& w : s["words"]) text += w["lexeme"].get<std::string>();
      if (p["cv"][ci].get<double>() > min_cv) out.emplace_back(text, p["cv"][ci].get<double>());
      continue;
    }
    if (level == InsightLevel::sentence) {
      for (const auto& s : p["sents"]) {
        std::string text;
        for (const auto& w : s["words"]) text += w["lexeme"].get<std::string>();
        if (s["cv"][ci].get<double>() > min_cv) out.emplace_back(text, s["cv"][ci].get<double>());
      }
      continue;
    }
    std::vector<const nlohmann::json*> words;
    for (const auto& s : p["sents"])
      for (const auto& w : s["words"]) words.push_back(&w);
    const std::int64_t n = static_cast<std::int64_t>(words.size());
    std::int64_t i = 0;
    const std::int64_t ws = window;
    auto cvof = [&](std::int64_t k) { return (*words[static_cast<std::size_t>(k)])["cv"][ci].get<double>(); };
    while (i < n) {
      if (cvof(i) > min_cv) {
        std::string text;
        double total = 0;
        std::int64_t left = std::min(i, ws) + 1;
        i -= left - 1;
        while (left > 0 && i < n) {
          const std::string lex = (*words[static_cast<std::size_t>(i)])["lexeme"].get<std::string>();
          text += lex;
          total += cvof(i);
          if (cvof(i) > min_cv) left += std::min(ws, (n - 1) - i);
          if (is_word(lex)) --left;
          ++i;
        }
        out.emplace_back(text, total);
      } else {
        ++i;
      }
    }
  }
  if (sort)
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

/// A self-contained HTML page showing the document with every word that carries confidence for
/// the chosen category highlighted (opacity by confidence); a selector switches categories. The
/// explanation is embedded as JSON and rendered by a small inline script (no external resources).
inline std::string explain_html(const Model& m, std::string_view doc, const std::string& title = "SS3 explanation") {
  const nlohmann::json r = explain(m, doc);
  std::string data = r.dump();
  std::string safe;
  safe.reserve(data.size());
  for (char ch : data) {
    if (ch == '<') {
      safe += "\\u003c";
    } else if (ch == '>') {
      safe += "\\u003e";
    } else if (ch == '&') {
      safe += "\\u0026";
    } else {
      safe.push_back(ch);
    }
  }
  std::string esc_title;
  for (char ch : title) {
    if (ch == '<') esc_title += "&lt;";
    else if (ch == '>') esc_title += "&gt;";
    else if (ch == '&') esc_title += "&amp;";
    else esc_title.push_back(ch);
  }
  return R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>)" +
         esc_title + R"(</title>
<style>
body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.7;color:#222}
.ss3-par{margin:0 0 1em 0;white-space:pre-wrap}
.ss3-hl{border-radius:3px;padding:0 1px}
#ss3-bars div{margin:2px 0}#ss3-bars span{display:inline-block;height:.8em;background:#3a7bd5}
</style></head><body>
<h1>)" + esc_title + R"(</h1>
<p>Category: <select id="ss3-cat"></select> <span id="ss3-top"></span></p>
<div id="ss3-bars"></div><hr><div id="ss3-doc"></div>
<noscript>This page needs JavaScript to show the highlighting.</noscript>
<script id="ss3-data" type="application/json">)" +
         safe + R"(</script>
<script>
(function(){
var r=JSON.parse(document.getElementById('ss3-data').textContent);
var sel=document.getElementById('ss3-cat'),docEl=document.getElementById('ss3-doc');
r.ci.forEach(function(n,i){var o=document.createElement('option');o.value=i;o.textContent=n;sel.appendChild(o);});
var top=r.cvns.length?r.cvns[0][0]:0;sel.value=top;
document.getElementById('ss3-top').textContent='(predicted: '+r.ci[top]+')';
var bars=document.getElementById('ss3-bars'),mx=Math.max.apply(null,r.cv.concat([1e-12]));
r.cvns.forEach(function(e){var d=document.createElement('div'),b=document.createElement('span');
b.style.width=(12*r.cv[e[0]]/mx)+'em';d.appendChild(b);d.appendChild(document.createTextNode(' '+r.ci[e[0]]+' '+r.cv[e[0]].toFixed(3)));bars.appendChild(d);});
function render(){var c=+sel.value;docEl.textContent='';var wmax=1e-12;
r.pars.forEach(function(p){p.sents.forEach(function(s){s.words.forEach(function(w){wmax=Math.max(wmax,w.cv[c]);});});});
r.pars.forEach(function(p){if(p.sents.length===1&&p.sents[0].words.length===1&&p.sents[0].words[0].lexeme==='\n')return;
var pe=document.createElement('div');pe.className='ss3-par';
p.sents.forEach(function(s){var se=document.createElement('span');se.className='ss3-sent';
se.title='sentence confidence: '+s.cv[c].toFixed(3);
s.words.forEach(function(w){if(w.cv[c]>0){var h=document.createElement('span');h.className='ss3-hl';
h.setAttribute('data-cv',w.cv[c].toFixed(4));h.title=w.token+': '+w.cv[c].toFixed(3);
h.style.backgroundColor='rgba(255,140,0,'+(0.15+0.85*w.cv[c]/wmax).toFixed(3)+')';h.textContent=w.lexeme;se.appendChild(h);}
else{se.appendChild(document.createTextNode(w.lexeme));}});pe.appendChild(se);});docEl.appendChild(pe);});}
sel.addEventListener('change',render);render();
})();
</script></body></html>
)";
}

}  // namespace orchard::ss3
