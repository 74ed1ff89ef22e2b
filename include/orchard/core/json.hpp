#pragma once
// JSON helpers for model files (nlohmann-json): reading with line/column errors, atomic writing,
// the versioned model header every saved model starts with, and typed field access that throws
// FormatError naming the field.
#include <cmath>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "error.hpp"
#include "io/dataset.hpp"

namespace orchard::json {

/// Parses a JSON file. IoError when it cannot be read; ParseError(path, line, column) when the text
/// is not valid JSON (an empty file included).
inline nlohmann::json read_file(const std::string& path) {
  io::detail::check_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("orchard: cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("orchard: read error in '" + path + "'");
  const std::string text = ss.str();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is the 1-based position of the offending byte (one past the end at an early end).
    std::size_t pos = e.byte == 0 ? 0 : e.byte - 1;
    if (pos > text.size()) pos = text.size();
    std::int64_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string msg = e.what();
    const auto p = msg.find("parse error");
    if (p != std::string::npos) msg = msg.substr(p);
    throw ParseError(path, line, col, text.empty() ? "empty file" : msg);
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
    throw ParseError(path, 0, 0, e.what());
  }
}

/// Writes `doc` (2-space indented) to `path` through a temporary file renamed into place, so a
/// crash never leaves a half-written model. IoError on failure. Doubles are written with enough
/// digits to read back bit-exactly; NaN and infinity are written as null (JSON has neither).
inline void write_file(const std::string& path, const nlohmann::json& doc) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("orchard: cannot write '" + path + "'");
    out << doc.dump(2) << '\n';
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw IoError("orchard: write error on '" + path + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw IoError("orchard: cannot write '" + path + "': " + ec.message());
  }
}

/// {"format": "orchard", "kind": kind, "version": version}: the first fields of every model file.
inline nlohmann::json model_header(std::string_view kind, int version) {
  nlohmann::json j = nlohmann::json::object();
  j["format"] = "orchard";
  j["kind"] = std::string(kind);
  j["version"] = version;
  return j;
}

/// Checks that `doc` is an Orchard model of `kind` with 1 <= version <= max_version and returns the
/// version; FormatError otherwise.
inline int check_model_header(const nlohmann::json& doc, std::string_view kind, int max_version) {
  const std::string k(kind);
  if (!doc.is_object()) throw FormatError("orchard: a " + k + " model must be a JSON object");
  const auto f = doc.find("format");
  if (f == doc.end() || !f->is_string() || f->get<std::string>() != "orchard") {
    throw FormatError("orchard: not an Orchard model file (\"format\" is not \"orchard\")");
  }
  const auto kd = doc.find("kind");
  if (kd == doc.end() || !kd->is_string()) {
    throw FormatError("orchard: model file has no \"kind\" (expected \"" + k + "\")");
  }
  if (kd->get<std::string>() != k) {
    throw FormatError("orchard: model kind is \"" + kd->get<std::string>() + "\", expected \"" + k +
                      "\"");
  }
  const auto v = doc.find("version");
  if (v == doc.end() || !v->is_number_integer()) {
    throw FormatError("orchard: " + k + " model has no integer \"version\"");
  }
  const auto ver = v->get<std::int64_t>();
  if (ver < 1 || ver > max_version) {
    throw FormatError("orchard: " + k + " model version " + std::to_string(ver) +
                      " is not supported (this build reads versions 1.." +
                      std::to_string(max_version) + ")");
  }
  return static_cast<int>(ver);
}

namespace detail {
template <class T>
struct is_vector : std::false_type {};
template <class E, class A>
struct is_vector<std::vector<E, A>> : std::true_type {};

/// FormatError unless every number that nlohmann would convert to an integer type inside T is an
/// integer in that type's range. nlohmann converts with a plain static_cast, which is undefined
/// behaviour for a floating-point value out of the integer's range (1e300 read as int) and
/// silently wraps an integer out of range; a model file must not be able to cause either.
template <class T>
void check_integers(const nlohmann::json& v, std::string_view what) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    bool ok = false;
    if (v.is_number_unsigned()) {
      ok = std::in_range<T>(v.get_ref<const nlohmann::json::number_unsigned_t&>());
    } else if (v.is_number_integer()) {
      ok = std::in_range<T>(v.get_ref<const nlohmann::json::number_integer_t&>());
    } else if (v.is_number_float()) {
      const double d = v.get_ref<const nlohmann::json::number_float_t&>();
      // An integral value that fits: compare in long double, which holds 2^64 exactly.
      const long double x = static_cast<long double>(d);
      ok = std::trunc(d) == d &&
           x >= static_cast<long double>(std::numeric_limits<T>::min()) &&
           x <= static_cast<long double>(std::numeric_limits<T>::max());
    } else {
      return;  // not a number: nlohmann's own type error follows
    }
    if (!ok) {
      throw FormatError("orchard: " + std::string(what) + ": " + v.dump() +
                        " is not an integer in the range of the field's type");
    }
  } else if constexpr (is_vector<T>::value) {
    if (!v.is_array()) return;
    for (const auto& e : v) check_integers<typename T::value_type>(e, what);
  }
}
}  // namespace detail

/// v converted to T, where v is a value already found (an array element, a nested field); for
/// integer types (and vectors of them) the value must be an integer in range. FormatError naming
/// `what` otherwise.
template <class T>
T as(const nlohmann::json& v, std::string_view what) {
  detail::check_integers<T>(v, what);
  try {
    return v.template get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("orchard: " + std::string(what) + " has the wrong type (" + v.type_name() +
                      "): " + e.what());
  }
}

/// obj[key] converted to T; FormatError naming `where` and `key` when obj is not an object, the key
/// is missing, or the value has the wrong type (for integer types, also when it is not an integer
/// in the type's range).
template <class T>
T get(const nlohmann::json& obj, std::string_view key, std::string_view where) {
  const std::string k(key);
  const std::string w(where);
  if (!obj.is_object()) {
    throw FormatError("orchard: " + w + ": expected a JSON object holding \"" + k + "\", found " +
                      obj.type_name());
  }
  const auto it = obj.find(k);
  if (it == obj.end()) throw FormatError("orchard: " + w + ": missing field \"" + k + "\"");
  detail::check_integers<T>(*it, w + ": field \"" + k + "\"");
  try {
    return it->template get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("orchard: " + w + ": field \"" + k + "\" has the wrong type (" +
                      it->type_name() + "): " + e.what());
  }
}

/// Doubles as a JSON array; the non-finite ones as the strings "inf", "-inf" and "nan", since
/// JSON numbers cannot hold them (nlohmann would write null and lose which one it was).
inline nlohmann::json doubles(const std::vector<double>& v) {
  nlohmann::json arr = nlohmann::json::array();
  for (double x : v) {
    if (std::isfinite(x)) {
      arr.push_back(x);
    } else {
      arr.push_back(std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
    }
  }
  return arr;
}

/// obj[key] as a vector of doubles written by `doubles` ("inf", "-inf", "nan" strings; null, as
/// other writers put NaN, reads as NaN). FormatError naming `where` and `key` when the field is
/// missing or holds anything else.
inline std::vector<double> get_doubles(const nlohmann::json& obj, std::string_view key,
                                       std::string_view where) {
  const auto arr = get<nlohmann::json>(obj, key, where);
  if (!arr.is_array()) {
    throw FormatError("orchard: " + std::string(where) + ": field \"" + std::string(key) +
                      "\" must be an array of numbers, found " + arr.type_name());
  }
  std::vector<double> out;
  out.reserve(arr.size());
  for (const auto& v : arr) {
    if (v.is_null()) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
    } else if (v.is_number()) {
      out.push_back(v.get<double>());
    } else if (v.is_string() && (v == "inf" || v == "-inf" || v == "nan")) {
      out.push_back(v == "nan" ? std::numeric_limits<double>::quiet_NaN()
                               : v == "inf" ? std::numeric_limits<double>::infinity()
                                            : -std::numeric_limits<double>::infinity());
    } else {
      throw FormatError("orchard: " + std::string(where) + ": field \"" + std::string(key) +
                        "\" holds a " + v.type_name() + " where a number belongs");
    }
  }
  return out;
}

}  // namespace orchard::json
