// OsTraceRecorder: per-thread event buffers merged by sequence number at the end.
#include "weft/trace/os_recorder.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace weft::trace {
namespace {

std::atomic<std::uint64_t> g_serial{0};

// ThreadCache remembers the buffer this thread uses for the recorder `serial`.
struct ThreadCache {
  std::uint64_t serial = 0;  // 0: none (serials start at 1)
  void* buffer = nullptr;
};
thread_local ThreadCache t_cache;

}  // namespace

OsTraceRecorder::OsTraceRecorder(std::size_t max_events_per_thread)
    : max_per_thread_(max_events_per_thread), serial_(g_serial.fetch_add(1, std::memory_order_relaxed) + 1) {}

OsTraceRecorder::~OsTraceRecorder() {
  if (installed_ && weft::event_sink() == this) weft::set_event_sink(nullptr);
}

void OsTraceRecorder::start() {
  t0_ = std::chrono::steady_clock::now();
  installed_ = true;
  weft::set_event_sink(this);
}

void OsTraceRecorder::stop() {
  if (weft::event_sink() == this) weft::set_event_sink(nullptr);
  installed_ = false;
}

OsTraceRecorder::Buffer* OsTraceRecorder::buffer_of_this_thread() {
  if (t_cache.serial == serial_) return static_cast<Buffer*>(t_cache.buffer);
  auto owned = std::make_unique<Buffer>();
  owned->rows.reserve(std::min<std::size_t>(max_per_thread_, 4096));
  Buffer* b = owned.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    buffers_.push_back(std::move(owned));
  }
  t_cache.serial = serial_;
  t_cache.buffer = b;
  return b;
}

void OsTraceRecorder::record(const weft::Event& e) {
  // Relaxed: the number only orders events; it pairs with nothing.
  const std::uint64_t step = seq_.fetch_add(1, std::memory_order_relaxed);
  const auto t = std::chrono::steady_clock::now() - t0_;
  Buffer* b = buffer_of_this_thread();
  if (b->rows.size() >= max_per_thread_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);  // a count only
    return;
  }
  b->rows.push_back(OsTraceEvent{static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t).count()),
                                 step, e.worker, static_cast<std::uint8_t>(e.kind), e.task, e.a, e.b});
}

std::vector<OsTraceEvent> OsTraceRecorder::events() const {
  std::vector<OsTraceEvent> out;
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const auto& b : buffers_) n += b->rows.size();
  out.reserve(n);
  for (const auto& b : buffers_) out.insert(out.end(), b->rows.begin(), b->rows.end());
  std::sort(out.begin(), out.end(), [](const OsTraceEvent& x, const OsTraceEvent& y) { return x.step < y.step; });
  return out;
}

std::string OsTraceRecorder::trace_json(const std::string& program, const weft::Config& config) const {
  nlohmann::ordered_json h = header_start();
  h["backend"] = "os";
  h["program"] = program;
  h["clock"] = "steady, ns since start(); step is a global sequence number";
  h["derived_options"] = {{"workers", weft::resolve(config).worker_threads}};
  h["dropped_events"] = dropped();
  {
    std::lock_guard<std::mutex> lock(mu_);
    h["threads"] = buffers_.size();
  }
  auto kind_name = [](std::uint8_t k) { return weft::event_name(static_cast<weft::EventKind>(k)); };
  return write_trace(h, events(), kind_name, "\"metrics\":null");
}

bool OsTraceRecorder::write(const std::string& path, const std::string& program, const weft::Config& config) const {
  std::ofstream f(path, std::ios::binary);
  f << trace_json(program, config);
  return static_cast<bool>(f);
}

}  // namespace weft::trace
