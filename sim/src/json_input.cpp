// Hostile-input reading shared by every file the tools read: size cap, strict
// parse (depth, duplicate keys, every library exception), escaping for print.
#include "weft/sim/json_input.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

namespace weft::sim {
namespace {

using json = nlohmann::json;

std::string size_text(std::size_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// utf8_length returns the length of the valid UTF-8 sequence at text[i], or 0.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

// Frame is one open array or object while parsing: where the parser is in it.
struct Frame {
  bool object = false;
  std::string key;          // object: the key of the member being parsed
  std::size_t index = 0;    // array: the index of the element being parsed
  std::set<std::string> keys;  // object: keys seen so far
};

std::string path_of(const std::vector<Frame>& frames) {
  std::string p = "$";
  for (const Frame& f : frames) p += f.object ? "." + f.key : "[" + std::to_string(f.index) + "]";
  return p;
}

struct ParseStop {
  std::string path;
  std::string expected;
};

// syntax_reason turns nlohmann's parse_error text into "line L, column C: reason".
std::string syntax_reason(const std::string& what) {
  const std::string marker = "parse error at ";
  const auto at = what.find(marker);
  return at == std::string::npos ? what : what.substr(at + marker.size());
}

}  // namespace

std::string InputError::message() const { return printable(file + ": " + path + ": expected " + expected); }

bool read_input_file(const std::string& path, std::size_t bytes_max, std::string& text, InputError& error) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    error = InputError{path, "$", "a readable file (it does not exist)"};
    return false;
  }
  if (std::filesystem::is_directory(st)) {
    error = InputError{path, "$", "a file, got a directory"};
    return false;
  }
  const std::string cap = "a file of at most " + size_text(bytes_max);
  if (std::filesystem::is_regular_file(st)) {
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > bytes_max) {
      error = InputError{path, "$", cap + ", got " + std::to_string(size) + " bytes"};
      return false;
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = InputError{path, "$", "a readable file (cannot open it)"};
    return false;
  }
  // A device or pipe has no size: read in chunks and stop past the cap.
  text.clear();
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > bytes_max) {
      error = InputError{path, "$", cap};
      text.clear();
      return false;
    }
  }
  if (in.bad()) {
    error = InputError{path, "$", "a readable file (a read failed)"};
    return false;
  }
  return true;
}

std::optional<json> parse_json_input(std::string_view text, const std::string& file, InputError& error) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    error = InputError{file, "$", "a JSON document, got an empty file"};
    return std::nullopt;
  }
  std::vector<Frame> frames;
  // The callback follows the parser through the document (iteratively: nlohmann's
  // parser keeps its own stack), so depth is refused before anything recurses.
  auto follow = [&frames](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<int>(frames.size()) >= kInputDepthMax)
          throw ParseStop{path_of(frames), "at most " + std::to_string(kInputDepthMax) + " levels of nested arrays and objects"};
        frames.push_back(Frame{event == json::parse_event_t::object_start, {}, 0, {}});
        break;
      case json::parse_event_t::key: {
        Frame& f = frames.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) throw ParseStop{path_of(frames), "each key once in an object (a duplicate key)"};
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        if (!frames.empty() && !frames.back().object) ++frames.back().index;
        break;
      case json::parse_event_t::value:
        if (!frames.empty() && !frames.back().object) ++frames.back().index;
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), follow, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const ParseStop& s) {
    error = InputError{file, s.path, s.expected};
  } catch (const json::parse_error& e) {
    error = InputError{file, "$", "valid JSON; at " + syntax_reason(e.what())};
  } catch (const json::out_of_range& e) {
    // Number overflow (1e999): the path is where the parser stands.
    std::string what = e.what();
    const auto close = what.find("] ");
    error = InputError{file, path_of(frames),
                       "a number within a double's range (" + (close == std::string::npos ? what : what.substr(close + 2)) + ")"};
  } catch (const json::exception& e) {
    error = InputError{file, path_of(frames), std::string("valid JSON (") + e.what() + ")"};
  }
  return std::nullopt;
}

namespace {

// code_point decodes the valid UTF-8 sequence of `n` bytes at text[i].
char32_t code_point(std::string_view text, std::size_t i, std::size_t n) {
  const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(text[i + k])); };
  if (n == 1) return b(0);
  char32_t cp = b(0) & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (b(k) & 0x3F);
  return cp;
}

// is_invisible_format says whether a code point changes how a terminal shows
// the text around it without showing itself: Unicode's format characters
// (category Cf: bidirectional embeddings, overrides and isolates U+202A..U+202E
// and U+2066..U+2069, direction marks, zero-width characters, the byte-order
// mark, tags) and the line and paragraph separators U+2028, U+2029. A name that
// reorders or hides what follows would make an error line lie.
bool is_invisible_format(char32_t cp) {
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {
      {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},
      {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},   {0x200B, 0x200F},   {0x2028, 0x202E},
      {0x2060, 0x2064},   {0x2066, 0x206F},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
      {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
      {0xE0020, 0xE007F}};
  for (const auto& [lo, hi] : kRanges) {
    if (cp >= lo && cp <= hi) return true;
  }
  return false;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char hex[8];
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_length(text, i);
    // C1 controls (U+0080 to U+009F, encoded C2 80..C2 9F) act on terminals too.
    const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (n == 0 || c1) {
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
      continue;
    }
    if (n == 1 && (c < 0x20 || c == 0x7F)) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else {
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
      }
      ++i;
      continue;
    }
    if (n >= 2 && is_invisible_format(code_point(text, i, n))) {
      char esc[16];
      const auto cp = static_cast<unsigned>(code_point(text, i, n));
      std::snprintf(esc, sizeof esc, cp > 0xFFFF ? "\\U%08x" : "\\u%04x", cp);
      out += esc;
      i += n;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string shell_quote(std::string_view word) {
  const std::string_view safe =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-";
  if (!word.empty() && word.find_first_not_of(safe) == std::string_view::npos) return std::string(word);
  if (printable(word) != word) {
    // Control characters or invalid UTF-8: bash's $'...' with \xNN escapes keeps
    // the bytes and the line.
    std::string out = "$'";
    char hex[8];
    for (unsigned char c : word) {
      if (c == '\'' || c == '\\' || c < 0x20 || c >= 0x7F) {
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "'";
  }
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string dump_safe(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

std::string dump_safe(const nlohmann::ordered_json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void JsonReader::fail(const std::string& path, const std::string& expected) const {
  throw InputFailure{InputError{file_, path, expected}};
}

std::string JsonReader::describe(const json& v) {
  std::string s = dump_safe(v);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

void JsonReader::only_keys(const json& obj, const std::string& path, std::initializer_list<const char*> keys) const {
  object(obj, path);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) {
      std::string list;
      for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(path + "." + it.key(), "no such field (known fields: " + list + ")");
    }
  }
}

void JsonReader::object(const json& v, const std::string& path) const {
  if (!v.is_object()) fail(path, "an object, got " + describe(v));
}

std::uint64_t JsonReader::uint(const json& obj, const char* key, const std::string& path, std::uint64_t lo,
                               std::uint64_t hi, std::uint64_t dflt) const {
  if (!obj.contains(key)) return dflt;
  return uint_value(obj.at(key), path + "." + key, lo, hi);
}

std::uint64_t JsonReader::uint_value(const json& v, const std::string& path, std::uint64_t lo, std::uint64_t hi) const {
  const std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (!v.is_number_integer()) fail(path, range + ", got " + describe(v));
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u < lo || u > hi) fail(path, range + ", got " + describe(v));
    return u;
  }
  const auto i = v.get<std::int64_t>();
  if (i < 0 || static_cast<std::uint64_t>(i) < lo || static_cast<std::uint64_t>(i) > hi)
    fail(path, range + ", got " + describe(v));
  return static_cast<std::uint64_t>(i);
}

bool JsonReader::boolean(const json& obj, const char* key, const std::string& path, bool dflt) const {
  if (!obj.contains(key)) return dflt;
  const json& v = obj.at(key);
  if (!v.is_boolean()) fail(path + "." + key, "true or false, got " + describe(v));
  return v.get<bool>();
}

std::string JsonReader::string(const json& obj, const char* key, const std::string& path,
                               std::optional<std::string> dflt) const {
  if (!obj.contains(key)) {
    if (!dflt) fail(path + "." + key, "a string (the field is required)");
    return *dflt;
  }
  const json& v = obj.at(key);
  if (!v.is_string()) fail(path + "." + key, "a string, got " + describe(v));
  return v.get<std::string>();
}

std::string JsonReader::one_of(const json& obj, const char* key, const std::string& path,
                               std::initializer_list<const char*> options, const char* dflt) const {
  const std::string s = string(obj, key, path, std::string(dflt));
  for (const char* o : options) {
    if (s == o) return s;
  }
  std::string list;
  for (const char* o : options) list += (list.empty() ? "" : ", ") + std::string("\"") + o + "\"";
  fail(path + "." + key, "one of " + list + ", got " + describe(json(s)));
}

const json& JsonReader::required(const json& obj, const char* key, const std::string& path, const char* what) const {
  if (!obj.contains(key)) fail(path + "." + key, std::string(what) + " (the field is required)");
  return obj.at(key);
}

}  // namespace weft::sim
