// Reading JSON files that a user hands to the tools (scenarios, reproductions,
// schedules) as hostile input: a size cap checked before reading, a depth bound
// and duplicate keys checked while parsing, every library exception turned into
// one line naming the file, the JSON path and what was expected, and text from
// files escaped before it is printed.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::sim {

// InputError is a rejected input file: the file, the JSON path and what was expected.
struct InputError {
  std::string file;
  std::string path;      // e.g. "$.runtime.workers"
  std::string expected;  // e.g. "an integer from 1 to 64, got 1000000"
  // message renders the one line a tool prints, with control characters and
  // invalid UTF-8 escaped (a name from a file cannot split or colour the line),
  // each part shortened (a megabyte-long key or name cannot flood the terminal).
  std::string message() const;
};

// How much of each part of an error line is shown (bytes, after escaping).
inline constexpr std::size_t kFileShownMax = 300, kPathShownMax = 200, kExpectedShownMax = 400;

// shortened returns `text` if it is at most `max` bytes, else its head and tail
// around "...[N bytes not shown]...", cut on UTF-8 character boundaries.
std::string shortened(std::string_view text, std::size_t max);

// kInputDepthMax bounds how deeply arrays and objects may nest in any input file:
// deep enough for 16 nested repeats inside a reproduction, far from the stack.
inline constexpr int kInputDepthMax = 64;

// kInputTreeBytesMax bounds the memory of a parsed document's tree, estimated as
// it is built (about 100 bytes per small value): with the file caps it bounds what
// reading any input costs. A schedule's decisions and switches are streamed
// (ArrayStream) and do not count.
inline constexpr std::size_t kInputTreeBytesMax = 64 * 1024 * 1024;

// read_input_file reads a whole regular file of at most `bytes_max` bytes into
// `text`. It refuses a missing or unreadable file, a directory, anything that is
// not a regular file (a named pipe would block, a device would not end) and a file
// longer than the cap, before holding more than the cap in memory.
bool read_input_file(const std::string& path, std::size_t bytes_max, std::string& text, InputError& error);

// ArrayStream hands each element of the array at `path` (such as "$.decisions")
// to `take` as soon as it is parsed, instead of keeping it in the tree, where the
// array is left empty: a schedule's millions of decisions never exist as JSON
// values. `take` may throw InputFailure to refuse an element.
struct ArrayStream {
  std::string path;
  std::function<void(const nlohmann::json& element, std::size_t index)> take;
};

// InputOutOfMemory is std::bad_alloc while reading `file`, at `path`: a process
// memory limit below what the caps allow. Tools report it as resource_limit.
struct InputOutOfMemory : std::bad_alloc {
  InputOutOfMemory(std::string f, std::string p) : file(std::move(f)), path(std::move(p)) {}
  const char* what() const noexcept override { return "out of memory while reading an input file"; }
  std::string file, path;
};

// parse_json_input parses `text` strictly, in time linear in its length (a SAX
// handler builds the tree): nesting at most kInputDepthMax deep, no key twice in
// one object, numbers within the double's range, a tree of at most
// kInputTreeBytesMax. A syntax error says where (line, column) and what the
// parser expected. The arrays `streams` name are handed over element by element.
std::optional<nlohmann::json> parse_json_input(std::string_view text, const std::string& file, InputError& error,
                                               const std::vector<ArrayStream>& streams = {});

// printable escapes `text` for a terminal line: control characters as \n, \t or
// \xNN, bytes that are not valid UTF-8 as \xNN, invisible format characters
// (bidirectional controls, zero-width characters, U+2028/9) as \uXXXX; the rest
// of valid UTF-8 is kept.
std::string printable(std::string_view text);

// shell_quote returns `word` as one shell word that pastes back unchanged: as is
// when it holds only safe characters, else in single quotes.
std::string shell_quote(std::string_view word);

// dump_safe renders JSON whatever its strings hold: invalid UTF-8 becomes U+FFFD
// instead of an exception. Every JSON a tool writes goes through it.
std::string dump_safe(const nlohmann::json& j, int indent = -1);
std::string dump_safe(const nlohmann::ordered_json& j, int indent = -1);

// InputFailure carries an InputError out of JsonReader's checks.
struct InputFailure {
  InputError error;
};

// JsonReader checks the fields of a parsed document, one call per field; every
// check that fails throws InputFailure naming the path and what was expected.
class JsonReader {
 public:
  explicit JsonReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& expected) const;
  // only_keys requires an object whose keys are all in `keys`.
  void only_keys(const nlohmann::json& obj, const std::string& path, std::initializer_list<const char*> keys) const;
  // object requires an object (for a field read whole).
  void object(const nlohmann::json& v, const std::string& path) const;
  // uint reads an optional unsigned field in [lo, hi], `dflt` when absent.
  std::uint64_t uint(const nlohmann::json& obj, const char* key, const std::string& path, std::uint64_t lo,
                     std::uint64_t hi, std::uint64_t dflt) const;
  // uint_value reads an unsigned integer in [lo, hi]: never a float, bool or string.
  std::uint64_t uint_value(const nlohmann::json& v, const std::string& path, std::uint64_t lo, std::uint64_t hi) const;
  bool boolean(const nlohmann::json& obj, const char* key, const std::string& path, bool dflt) const;
  // string reads a string field; a missing field is an error when `dflt` is empty.
  std::string string(const nlohmann::json& obj, const char* key, const std::string& path,
                     std::optional<std::string> dflt) const;
  std::string one_of(const nlohmann::json& obj, const char* key, const std::string& path,
                     std::initializer_list<const char*> options, const char* dflt) const;
  // required returns obj[key], or fails naming the missing field.
  const nlohmann::json& required(const nlohmann::json& obj, const char* key, const std::string& path,
                                 const char* what) const;
  const std::string& file() const { return file_; }

  // describe renders a value for an error message, shortened.
  static std::string describe(const nlohmann::json& v);

 private:
  std::string file_;
};

}  // namespace weft::sim
