#pragma once
// The exception hierarchy of Orchard. Every user error is one of these, with a message that names
// the argument (or file, line, column) and the offending value.
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace orchard {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A parameter or argument has an invalid value or shape.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file or byte stream could not be parsed; the message carries source, line and column.
class ParseError : public Error {
 public:
  ParseError(std::string source, std::int64_t line, std::int64_t column, const std::string& what)
      : Error(format(source, line, column, what)),
        source_(std::move(source)),
        line_(line),
        column_(column) {}
  const std::string& source() const noexcept { return source_; }
  std::int64_t line() const noexcept { return line_; }      ///< 1-based, 0 when not line-oriented
  std::int64_t column() const noexcept { return column_; }  ///< 1-based, 0 when unknown

 private:
  static std::string format(const std::string& s, std::int64_t l, std::int64_t c,
                            const std::string& w) {
    std::ostringstream os;
    os << "parse error in " << s;
    if (l > 0) os << " at line " << l;
    if (c > 0) os << ", column " << c;
    os << ": " << w;
    return os.str();
  }
  std::string source_;
  std::int64_t line_, column_;
};

/// A file could not be opened, read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A model file is well-formed JSON/bytes but not a model this version can load.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// An object was used before it was fitted or loaded.
class StateError : public Error {
 public:
  using Error::Error;
};

/// A device (GPU) was requested but is unavailable, or a device call failed.
class DeviceError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class T>
std::string to_text(const T& v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}
}  // namespace detail

/// Throws InvalidArgument "argument 'name' = value: requirement" when `ok` is false.
template <class T>
inline void require(bool ok, std::string_view name, const T& value, std::string_view requirement) {
  if (!ok) {
    throw InvalidArgument("orchard: argument '" + std::string(name) + "' = " +
                          detail::to_text(value) + ": " + std::string(requirement));
  }
}

}  // namespace orchard
