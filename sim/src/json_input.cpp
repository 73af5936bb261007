// Hostile-input reading shared by every file the tools read: size cap, strict
// parse (depth, duplicate keys, every library exception), escaping for print.
#include "weft/sim/json_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
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

}  // namespace

std::string InputError::message() const {
  return shortened(printable(file), kFileShownMax) + ": " + shortened(printable(path), kPathShownMax) + ": expected " +
         shortened(printable(expected), kExpectedShownMax);
}

std::string shortened(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  // Cut on UTF-8 character boundaries: never inside a multi-byte sequence.
  const auto boundary = [&](std::size_t i) {
    while (i > 0 && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
    return i;
  };
  const std::size_t head = boundary(max * 2 / 3), tail = boundary(text.size() - max / 3);
  return std::string(text.substr(0, head)) + "...[" + std::to_string(tail - head) + " bytes not shown]..." +
         std::string(text.substr(tail));
}

bool read_input_file(const std::string& path, std::size_t bytes_max, std::string& text, InputError& error) {
  // Opened without blocking (a named pipe would wait for a writer) and checked on
  // the open descriptor, so what is read is what was checked.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    error = InputError{path, "$", err == ENOENT ? "a readable file (it does not exist)"
                                               : std::string("a readable file (cannot open it: ") + std::strerror(err) + ")"};
    return false;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = InputError{path, "$", "a readable file (cannot stat it)"};
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    // Devices, pipes and sockets have no size to check and may never end.
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a named pipe"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    error = InputError{path, "$", std::string(S_ISDIR(st.st_mode) ? "a file" : "a regular file") + ", got " + kind};
    return false;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > bytes_max) {
    error = InputError{path, "$", "a file of at most " + size_text(bytes_max) + ", got " + std::to_string(size) + " bytes"};
    return false;
  }
  // A regular file may still grow while it is read: stop one byte past the cap.
  text.clear();
  try {
    text.reserve(static_cast<std::size_t>(size));
  } catch (const std::bad_alloc&) {
    throw InputOutOfMemory(path, "$");
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = InputError{path, "$", std::string("a readable file (a read failed: ") + std::strerror(errno) + ")"};
      text.clear();
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > bytes_max) {
      error = InputError{path, "$", "a file of at most " + size_text(bytes_max) + " (it grew while being read)"};
      text.clear();
      return false;
    }
  }
  return true;
}

namespace {

// TreeBuilder is the SAX handler behind parse_json_input: it builds the tree
// itself (one step per token, so parsing is linear in the text: nlohmann's
// callback parser rescans a parent at the end of every object, quadratic in an
// array of objects), follows the JSON path, and stops at the first thing an input
// file must not hold. The parser keeps its own stack; nesting is refused here
// before anything recurses.
class TreeBuilder final : public json::json_sax_t {
 public:
  TreeBuilder(const std::vector<ArrayStream>& streams) : streams_(streams) {
    frames_.reserve(kInputDepthMax + 1);  // never reallocates: element_ pointers stay valid
    for (const ArrayStream& s : streams_) {
      stream_depth_max_ = std::max(stream_depth_max_, static_cast<std::size_t>(std::count_if(
                                                          s.path.begin(), s.path.end(), [](char c) { return c == '.' || c == '['; })));
    }
  }

  json& root() { return root_; }
  // path names the value being parsed: "$.programs.m[3]".
  std::string path() const {
    std::string p = "$";
    for (const Frame& f : frames_) {
      if (f.value->is_object()) {
        p += '.';
        p += f.key;
      } else {
        p += '[';
        p += std::to_string(f.index);
        p += ']';
      }
    }
    return p;
  }

  bool null() override { return scalar(json(nullptr)); }
  bool boolean(bool v) override { return scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(json(v)); }
  bool number_float(number_float_t v, const string_t& /*text*/) override { return scalar(json(v)); }
  bool string(string_t& v) override {
    count(kStringBytes + v.size());
    return scalar(json(std::move(v)));
  }
  bool binary(binary_t& /*v*/) override { return stop("text JSON (no binary values)"); }
  bool start_object(std::size_t /*elements*/) override { return open(json::value_t::object); }
  bool start_array(std::size_t /*elements*/) override { return open(json::value_t::array); }
  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (f.value->contains(k)) {
      f.key = std::move(k);
      return stop("each key once in an object (a duplicate key)");
    }
    count(kMemberBytes + k.size());
    f.key = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const nlohmann::detail::exception& e) override {
    const std::string what = e.what();
    if (e.id == 406) {  // number overflow (1e999): the path is where the parser stands
      const auto close = what.find("] ");
      return stop("a number within a double's range (" + (close == std::string::npos ? what : what.substr(close + 2)) + ")");
    }
    const std::string marker = "parse error at ";
    const auto at = what.find(marker);
    error_path_ = "$";
    expected_ = "valid JSON; at " + (at == std::string::npos ? what : what.substr(at + marker.size()));
    return false;
  }

  // stopped says why parsing stopped early: the path and what was expected.
  bool stopped() const { return !expected_.empty(); }
  const std::string& error_path() const { return error_path_; }
  const std::string& expected() const { return expected_; }

 private:
  // Estimated bytes of the tree per value, per object member, per string (the
  // value's own 16 bytes, a map node, a heap string); a budget, not a measure.
  static constexpr std::size_t kValueBytes = sizeof(json), kMemberBytes = 64, kStringBytes = 32;

  // Frame is one open array or object.
  struct Frame {
    json* value;            // the array or object being filled
    std::string key;        // object: the member being parsed
    std::size_t index = 0;  // array: the element being parsed
    const ArrayStream* stream = nullptr;  // elements go to stream->take, not into *value
    json element;           // a streamed array's element while it is built
    std::size_t bytes_at_element = 0;  // tree bytes before the element (given back after take)
  };

  bool stop(std::string expected) {
    error_path_ = path();
    expected_ = std::move(expected);
    return false;
  }

  void count(std::size_t bytes) { bytes_ += bytes; }

  // place puts a new value where the parser stands and returns it.
  json* place(json v) {
    count(kValueBytes);
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& f = frames_.back();
    if (f.value->is_object()) {
      json& slot = (*f.value)[f.key];
      slot = std::move(v);
      return &slot;
    }
    if (f.stream != nullptr) {
      f.bytes_at_element = bytes_ - kValueBytes;
      f.element = std::move(v);
      return &f.element;
    }
    f.value->get_ref<json::array_t&>().push_back(std::move(v));
    return &f.value->get_ref<json::array_t&>().back();
  }

  // finished is called when the value at the parser's place is complete.
  bool finished() {
    if (bytes_ > kInputTreeBytesMax)
      return stop("a document whose values fit in " + std::to_string(kInputTreeBytesMax >> 20) +
                  " MiB of memory (about " + std::to_string(bytes_ >> 20) + " MiB so far)");
    if (frames_.empty()) return true;
    Frame& f = frames_.back();
    if (f.value->is_object()) return true;
    if (f.stream != nullptr) {
      f.stream->take(f.element, f.index);  // may throw InputFailure
      f.element = json();
      bytes_ = f.bytes_at_element;
    }
    ++f.index;
    return true;
  }

  bool scalar(json v) {
    place(std::move(v));
    return finished();
  }

  bool open(json::value_t type) {
    if (frames_.size() >= static_cast<std::size_t>(kInputDepthMax))
      return stop("at most " + std::to_string(kInputDepthMax) + " levels of nested arrays and objects");
    const ArrayStream* stream = nullptr;
    if (type == json::value_t::array && !streams_.empty() && frames_.size() <= stream_depth_max_) {
      const std::string here = path();
      for (const ArrayStream& s : streams_) {
        if (s.path == here) stream = &s;
      }
    }
    json* v = place(json(type));
    frames_.push_back(Frame{v, {}, 0, stream, json(), 0});
    return true;
  }

  bool close() {
    frames_.pop_back();
    return finished();
  }

  const std::vector<ArrayStream>& streams_;
  std::size_t stream_depth_max_ = 0;
  std::vector<Frame> frames_;
  json root_;
  std::size_t bytes_ = 0;
  std::string error_path_, expected_;
};

}  // namespace

std::optional<json> parse_json_input(std::string_view text, const std::string& file, InputError& error,
                                     const std::vector<ArrayStream>& streams) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    error = InputError{file, "$", "a JSON document, got an empty file"};
    return std::nullopt;
  }
  TreeBuilder builder(streams);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, /*strict=*/true,
                         /*ignore_comments=*/false);
  } catch (const InputFailure& f) {  // a streamed element refused by its reader
    error = f.error;
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    throw InputOutOfMemory(file, builder.path());
  }
  if (!ok || builder.stopped()) {
    error = InputError{file, builder.error_path(), builder.expected()};
    return std::nullopt;
  }
  return std::move(builder.root());
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
