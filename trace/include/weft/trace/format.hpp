// The weft-trace schema and its one writer, shared by both backends: the harness
// writes simulated runs with it (harness/src/trace.cpp) and OsTraceRecorder real
// runs (os_recorder.cpp); tools/trace_check reads both. Engine-agnostic: the
// caller renders event kinds with its engine build's weft::event_name.
//
// A document: {"header": {...}, "event_fields": [...], "events": [[row], ...], <tail>}
// where the header starts with the schema's own fields (format, format_version,
// weft_version) and the tail holds the writer's trailing members ("metrics", ...).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace weft::trace {

// kFormatName and kFormatVersion identify the schema in every header.
inline constexpr const char* kFormatName = "weft-trace";
inline constexpr int kFormatVersion = 1;

// EventRow is one engine event as a trace row: [t_ns, step, worker, kind, task, a, b].
struct EventRow {
  std::uint64_t t_ns;  // virtual time (simulator) or steady clock since start (OS)
  std::uint64_t step;  // decision index (simulator) or global sequence number (OS)
  std::int32_t worker;
  std::uint8_t kind;  // weft::EventKind
  std::uint64_t task;
  std::uint64_t a;
  std::uint64_t b;
};

// KindName renders an event kind: weft::event_name of the engine build that recorded it.
using KindName = const char* (*)(std::uint8_t kind);

// version_string names this build ("weft 0.1.0 (release)"); the version is the
// CMake project's.
std::string version_string();

// header_start returns a header holding the schema's own fields; writers append theirs.
nlohmann::ordered_json header_start();

// write_trace renders a document from its header, its rows (in order) and its tail:
// the JSON text of the members after "events" (e.g. "\"metrics\":null").
std::string write_trace(const nlohmann::ordered_json& header, const std::vector<EventRow>& rows, KindName kind_name,
                        std::string_view tail);

}  // namespace weft::trace
