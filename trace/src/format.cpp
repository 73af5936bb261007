// The weft-trace writer: the header's schema fields and the compact event rows.
#include "weft/trace/format.hpp"

#include <cstdio>

#if !defined(WEFT_VERSION)
#error "WEFT_VERSION must be defined by the build (trace/CMakeLists.txt)"
#endif

namespace weft::trace {

std::string version_string() {
#if defined(NDEBUG)
  return std::string("weft ") + WEFT_VERSION + " (release)";
#else
  return std::string("weft ") + WEFT_VERSION + " (debug)";
#endif
}

nlohmann::ordered_json header_start() {
  nlohmann::ordered_json h;
  h["format"] = kFormatName;
  h["format_version"] = kFormatVersion;
  h["weft_version"] = version_string();
  return h;
}

std::string write_trace(const nlohmann::ordered_json& header, const std::vector<EventRow>& rows, KindName kind_name,
                        std::string_view tail) {
  // Rows are one compact array each, one per line: the kind is the only string,
  // and kind names are identifiers, so a row needs no escaping.
  std::string out = "{\"header\":" + header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                    ",\"event_fields\":[\"t_ns\",\"step\",\"worker\",\"kind\",\"task\",\"a\",\"b\"],\"events\":[";
  char buf[192];
  bool first = true;
  for (const EventRow& e : rows) {
    const int n = std::snprintf(buf, sizeof buf, "%s\n[%llu,%llu,%d,\"%s\",%llu,%llu,%llu]", first ? "" : ",",
                                static_cast<unsigned long long>(e.t_ns), static_cast<unsigned long long>(e.step),
                                e.worker, kind_name(e.kind), static_cast<unsigned long long>(e.task),
                                static_cast<unsigned long long>(e.a), static_cast<unsigned long long>(e.b));
    out.append(buf, static_cast<std::size_t>(n));
    first = false;
  }
  out += "\n],";
  out += tail;
  out += "}\n";
  return out;
}

}  // namespace weft::trace
