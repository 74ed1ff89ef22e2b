#pragma once
// Data loaders for orchard::ss3. Files are read in sorted name order so results do not depend on
// the directory listing order.
#include <algorithm>
#include <map>
#include <filesystem>
#include <string>
#include <vector>

#include "io.hpp"

namespace orchard::ss3 {

struct Dataset {
  std::vector<std::string> docs;
  std::vector<std::string> labels;  ///< single-label data
};
struct MultiLabelDataset {
  std::vector<std::string> docs;
  std::vector<std::vector<std::string>> labels;
};

namespace detail {
inline std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw IoError("orchard::ss3: '" + dir.string() + "' is not a directory");
  std::vector<std::filesystem::path> v;
  for (const auto& e : std::filesystem::directory_iterator(dir)) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t j = text.find('\n', i);
    if (j == std::string::npos) j = text.size();
    out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}
inline bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}
inline void check_utf8(const std::string& text, const std::string& path) {
  try {
    unicode::decode_utf8(text, "file");
  } catch (const InvalidArgument&) {
    std::size_t line = 1;
    std::u32string tmp;
    for (const auto& l : split_lines(text)) {
      try {
        unicode::decode_utf8(l, tmp, "line");
      } catch (const InvalidArgument&) {
        throw ParseError(path, static_cast<std::int64_t>(line), 0, "invalid UTF-8");
      }
      ++line;
    }
    throw ParseError(path, 0, 0, "invalid UTF-8");
  }
}
}  // namespace detail

/// A folder of <category>.txt files, one document per line (blank lines skipped).
inline Dataset load_category_files(const std::string& dir, const std::string& ext = ".txt") {
  Dataset d;
  for (const auto& p : detail::sorted_entries(dir)) {
    if (!std::filesystem::is_regular_file(p) || p.extension() != ext) continue;
    const std::string text = detail::read_file(p.string());
    detail::check_utf8(text, p.string());
    for (auto& l : detail::split_lines(text)) {
      if (detail::blank(l)) continue;
      d.docs.push_back(std::move(l));
      d.labels.push_back(p.stem().string());
    }
  }
  if (d.docs.empty()) throw IoError("orchard::ss3: no <category>" + ext + " documents in '" + dir + "'");
  return d;
}

/// A folder of <category>/ folders, one document per file.
inline Dataset load_category_folders(const std::string& dir) {
  Dataset d;
  for (const auto& c : detail::sorted_entries(dir)) {
    if (!std::filesystem::is_directory(c)) continue;
    for (const auto& f : detail::sorted_entries(c)) {
      if (!std::filesystem::is_regular_file(f)) continue;
      std::string text = detail::read_file(f.string());
      detail::check_utf8(text, f.string());
      d.docs.push_back(std::move(text));
      d.labels.push_back(c.filename().string());
    }
  }
  if (d.docs.empty()) throw IoError("orchard::ss3: no <category>/ documents in '" + dir + "'");
  return d;
}

/// Multi-label data as pyss3's load_from_files_multilabel: either a docs file (documents separated
/// by `sep_doc`, one per line by default) with a labels file (the labels of each document on its
/// line, separated by `sep`), or a folder of documents with a labels file of "<doc name> <label>"
/// lines (white space separated).
inline MultiLabelDataset load_multilabel(const std::string& docs_path, const std::string& labels_path,
                                         char sep = ';', const std::string& sep_doc = "\n") {
  require(!sep_doc.empty(), "sep_doc", "", "must not be empty");
  MultiLabelDataset d;
  const std::string ltext = detail::read_file(labels_path);
  detail::check_utf8(ltext, labels_path);
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  if (std::filesystem::is_directory(docs_path)) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::string>> labels;
    std::int64_t line_no = 0;
    for (const auto& line : detail::split_lines(ltext)) {
      ++line_no;
      const std::string l = trim(line);
      if (l.empty()) continue;
      const auto sp = l.find_first_of(" \t");
      const std::string name = l.substr(0, sp);
      const std::string label = sp == std::string::npos ? "" : trim(l.substr(sp));
      if (!labels.count(name)) order.push_back(name);
      auto& v = labels[name];
      if (!label.empty()) v.push_back(label);
    }
    for (const auto& name : order) {
      const std::string file = name.find('.') == std::string::npos ? name + ".txt" : name;
      std::string text = detail::read_file((std::filesystem::path(docs_path) / file).string());
      detail::check_utf8(text, file);
      d.docs.push_back(std::move(text));
      d.labels.push_back(labels[name]);
    }
  } else {
    const std::string dtext = detail::read_file(docs_path);
    detail::check_utf8(dtext, docs_path);
    std::vector<std::string> docs;
    for (std::size_t i = 0;;) {
      const std::size_t j = dtext.find(sep_doc, i);
      docs.push_back(dtext.substr(i, j == std::string::npos ? std::string::npos : j - i));
      if (j == std::string::npos) break;
      i = j + sep_doc.size();
    }
    auto lines = detail::split_lines(ltext);
    if (!lines.empty() && lines.back().empty() && docs.size() < lines.size()) lines.pop_back();
    if (docs.size() < lines.size())
      throw ParseError(labels_path, static_cast<std::int64_t>(docs.size() + 1), 0,
                       "more label lines than documents in '" + docs_path + "'");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::vector<std::string> ls;
      if (!lines[i].empty()) {
        std::size_t a = 0;
        while (a <= lines[i].size()) {
          std::size_t b = lines[i].find(sep, a);
          if (b == std::string::npos) b = lines[i].size();
          const std::string l = trim(lines[i].substr(a, b - a));
          if (!l.empty()) ls.push_back(l);
          a = b + 1;
        }
      }
      d.docs.push_back(docs[i]);
      d.labels.push_back(std::move(ls));
    }
  }
  if (d.docs.empty()) throw IoError("orchard::ss3: no multi-label documents in '" + docs_path + "'");
  return d;
}

/// The Debian `fortunes` corpus: /usr/share/games/fortunes/<category>, entries separated by lines
/// holding "%". Categories default to every data file of the folder (no .dat / .u8 companions).
inline Dataset load_fortunes(const std::string& dir = "/usr/share/games/fortunes",
                             const std::vector<std::string>& categories = {}) {
  Dataset d;
  std::vector<std::string> cats = categories;
  if (cats.empty()) {
    for (const auto& p : detail::sorted_entries(dir)) {
      if (!std::filesystem::is_regular_file(p) || p.has_extension()) continue;
      cats.push_back(p.filename().string());
    }
  }
  for (const auto& cat : cats) {
    const auto path = std::filesystem::path(dir) / cat;
    if (!std::filesystem::is_regular_file(path))
      throw InvalidArgument("orchard::ss3: unknown fortunes category '" + cat + "' (no file " +
                            path.string() + ")");
    std::string text = detail::read_file(path.string());
    std::u32string tmp;
    try {
      unicode::decode_utf8(text, tmp, "fortunes");
    } catch (const InvalidArgument&) {  // a few files are Latin-1: map bytes to code points
      std::string fixed;
      for (unsigned char ch : text) unicode::append_utf8(fixed, ch);
      text.swap(fixed);
    }
    std::string entry;
    for (const auto& line : detail::split_lines(text)) {
      if (line == "%") {
        if (!detail::blank(entry)) {
          d.docs.push_back(entry);
          d.labels.push_back(cat);
        }
        entry.clear();
      } else {
        entry += line;
        entry.push_back('\n');
      }
    }
    if (!detail::blank(entry)) {
      d.docs.push_back(entry);
      d.labels.push_back(cat);
    }
  }
  if (d.docs.empty()) throw IoError("orchard::ss3: no fortunes found in '" + dir + "'");
  return d;
}

}  // namespace orchard::ss3
