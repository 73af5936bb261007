// OsTraceRecorder: records the engine's events on the OS backend and writes them in
// the simulator's weft-trace schema, so tools/trace_check reads real runs too.
//
// Protocol:
//  1. start() stamps the steady clock and installs the recorder as the engine's
//     EventSink (one sink per process: the engine's sink is a global).
//  2. Each record() takes a global sequence number (one relaxed fetch_add: it only
//     orders events; causality comes from the engine's own synchronisation, which
//     orders two events on different threads whenever one can affect the other),
//     reads the clock, and appends to the calling thread's own buffer. The buffer
//     is found through a thread_local cache keyed by the recorder's serial number,
//     so a thread takes the registration mutex only on its first event.
//  3. stop() uninstalls the sink. Call it after the runtime has shut down (every
//     worker joined): then no thread writes a buffer any more.
//  4. events() / write() merge the buffers by sequence number.
// Each buffer holds at most max_events_per_thread events; later events are counted
// as dropped and the header says so (the checker refuses an incomplete trace).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "weft/config.hpp"
#include "weft/events.hpp"
#include "weft/trace/format.hpp"

namespace weft::trace {

// OsTraceEvent is one event: a weft-trace event row (t_ns: steady clock since
// start(); step: the global sequence number).
using OsTraceEvent = EventRow;

// OsTraceRecorder is a thread-safe weft::EventSink for real runs.
class OsTraceRecorder final : public weft::EventSink {
 public:
  static constexpr std::size_t kEventsPerThreadMaxDefault = std::size_t{1} << 24;

  // OsTraceRecorder(max_events_per_thread) makes a stopped recorder.
  explicit OsTraceRecorder(std::size_t max_events_per_thread = kEventsPerThreadMaxDefault);
  // ~OsTraceRecorder uninstalls the recorder if it is still the engine's sink.
  ~OsTraceRecorder() override;
  OsTraceRecorder(const OsTraceRecorder&) = delete;
  OsTraceRecorder& operator=(const OsTraceRecorder&) = delete;

  // start stamps time zero and installs this recorder as the engine's event sink.
  void start();
  // stop uninstalls the sink; call it once the runtime has shut down.
  void stop();
  // record appends one event to the calling thread's buffer (the EventSink hook).
  void record(const weft::Event& e) override;

  // events returns every recorded event, ordered by sequence number.
  std::vector<OsTraceEvent> events() const;
  // dropped returns how many events did not fit in their thread's buffer.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  // trace_json renders the weft-trace document; `program` and what the runtime ran
  // with (config, resolved by weft::resolve) go in the header.
  std::string trace_json(const std::string& program, const weft::Config& config) const;
  // write saves trace_json to `path`; false if the file cannot be written.
  bool write(const std::string& path, const std::string& program, const weft::Config& config) const;

 private:
  struct Buffer {
    std::vector<OsTraceEvent> rows;  // written only by its thread, read after stop()
  };
  Buffer* buffer_of_this_thread();

  const std::size_t max_per_thread_;
  const std::uint64_t serial_;  // distinguishes recorders in the thread_local cache
  std::chrono::steady_clock::time_point t0_{};
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<std::uint64_t> dropped_{0};
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Buffer>> buffers_;  // guarded by mu_
  bool installed_ = false;
};

}  // namespace weft::trace
