// Decisions and schedules: what a simulated run chose, in a form that can be
// printed, saved as JSON, loaded and replayed.
//
// A schedule is the seed plus the list of every decision of a run, in order: each
// fiber choice (which fiber runs after a decision point) and each random draw
// (entropy() and random_u64()). Replaying it reproduces the run decision by decision.
// A shrunk schedule instead lists a few switches (Switch) for lenient replay.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/sim/json_input.hpp"

namespace weft::sim {

// FiberId names a simulated thread. Ids are sequential from 0 (the main fiber) in
// creation order, so they never depend on addresses.
using FiberId = std::uint32_t;
inline constexpr FiberId kNoFiber = 0xffffffffu;

// Op names the seam operation at which a decision was made. The names (op_name) are
// part of the schedule format: append new ops at the end.
enum class Op : std::uint8_t {
  load,
  store,
  exchange,
  cas,
  fetch_add,
  fetch_sub,
  fetch_or,
  fetch_and,
  lock,
  try_lock,
  unlock,
  park,
  park_for,
  unpark,
  spawn,
  join,
  exit,
  now,
  entropy,
  yield,
  spin,
  sleep,
  random,
  fence,  // after random: the names of the ops before it keep their numbers
  wake_one,  // which waiter an unlock wakes (Kernel::wake_one); after fence, likewise
};
inline constexpr int kOpCount = static_cast<int>(Op::wake_one) + 1;

// op_name returns the stable name of an op ("load", "park_for", ...).
const char* op_name(Op op) noexcept;
// op_from_name parses a name written by op_name.
std::optional<Op> op_from_name(std::string_view name) noexcept;

// DecisionKind says whether a decision chose a fiber or drew a random value.
enum class DecisionKind : std::uint8_t { fiber, random };

// Decision is one entry of a schedule: at `op`, either the fiber chosen to run next
// (kind fiber, value = FiberId) or a random draw (kind random, value = the draw).
struct Decision {
  DecisionKind kind = DecisionKind::fiber;
  Op op = Op::load;
  std::uint64_t value = 0;

  friend bool operator==(const Decision&, const Decision&) = default;
};

// TraceStep is one decision of a run kept for its trace (Options::trace): the
// fiber that reached it, its operation, and what was decided there.
struct TraceStep {
  std::uint64_t index = 0;    // the decision's index in the run
  std::uint64_t time_ns = 0;  // virtual time when it was made
  Op op = Op::load;
  FiberId fiber = 0;  // the fiber that reached it
  // kind fiber: `value` is the fiber chosen (to run next; at wake_one, to wake);
  // kind random: the value drawn.
  DecisionKind kind = DecisionKind::fiber;
  std::uint64_t value = 0;
};

// Switch is one explicit switch of a shrunk schedule, placed by the progress of
// the fiber it switches away from: when `fiber` reaches its `step`-th fiber
// decision (counted from 0, its own decisions only), `to` runs. Unlike a decision
// index, that place stays put when an earlier switch is removed.
struct Switch {
  FiberId fiber = 0;
  std::uint64_t step = 0;
  FiberId to = 0;

  friend bool operator==(const Switch&, const Switch&) = default;
};

// ReadDraw is one memory-model draw kept by a shrunk schedule, placed like a
// Switch by the progress of its fiber: the `step`-th draw (counted from 0) that
// `fiber` makes at a load or compare-exchange (which store a load reads, whether
// a weak compare-exchange fails spuriously) takes `value`. Lenient replay of a
// schedule whose reads are listed (Schedule::reads_listed) gives every other
// such draw 0: the newest store, no spurious failure.
struct ReadDraw {
  FiberId fiber = 0;
  std::uint64_t step = 0;
  std::uint64_t value = 0;

  friend bool operator==(const ReadDraw&, const ReadDraw&) = default;
};

// is_memory_draw says whether a random draw at `op` is a memory-model draw (a
// c11 load's or compare-exchange's choice): the kernel draws at load and cas
// for nothing else.
constexpr bool is_memory_draw(Op op) noexcept { return op == Op::load || op == Op::cas; }

// kSwitchPlaceMax bounds a switch's fiber ids and step: the largest step bound a
// tool accepts, so no run takes more decisions on one fiber or creates more fibers.
inline constexpr std::uint64_t kSwitchPlaceMax = 1'000'000'000;

// kScheduleBytesMax caps a schedule file (and a reproduction, which holds one),
// checked before it is read: some 3.5 million decisions. Decisions are read as
// they are parsed (16 bytes each), never as a JSON tree, so reading one takes
// about twice the file's size (its text and its decisions).
inline constexpr std::size_t kScheduleBytesMax = 64 * 1024 * 1024;

struct ScheduleStream;

// Schedule is a recorded run: its seed, the strategy it ran under (informational)
// and every decision. A shrunk schedule (replayed leniently) has switches too, or
// only switches.
struct Schedule {
  std::uint64_t seed = 0;
  std::string strategy;          // the strategy that made it (informational): "random", "pct", "hold", ...
  std::uint32_t pct_depth = 0;   // for pct
  std::uint64_t pct_steps = 0;   // for pct: the k its change points were spread over
  // memory_model: "c11" for a run under the C11 model (its loads' choices are
  // among the draws), empty for sc. A replay under the other model is refused.
  std::string memory_model;
  // history_depth: under c11, the stores kept per atomic (Options::history_depth)
  // when not the default; 0: the default. A replay under another depth is refused.
  std::uint32_t history_depth = 0;
  std::vector<Decision> decisions;
  std::vector<Switch> switches;  // lenient replay only; in the order they happen
  // Lenient replay only: when reads_listed, every memory draw (is_memory_draw)
  // takes its value from `reads` by place, and 0 (the newest store) where none
  // is listed; otherwise memory draws replay like any random draw.
  bool reads_listed = false;
  std::vector<ReadDraw> reads;

  // to_json renders the schedule as JSON text (format "weft-schedule"): version 1
  // without switches (every recorded schedule), version 2 with them, version 3
  // with listed reads.
  std::string to_json() const;
  // write_json streams the same text to `out` without building a JSON tree.
  void write_json(std::ostream& out) const;
  // from_json parses text written by to_json (either version); on error returns
  // nullopt and sets `error`.
  static std::optional<Schedule> from_json(std::string_view text, std::string& error);
  // from_value reads a parsed schedule document found at `path` of `file` (a
  // reproduction holds one at $.schedule); on error returns nullopt and sets `error`.
  // `streamed`, when given, holds the decisions and switches read while parsing
  // (the tree's arrays are then empty); they are moved out of it.
  static std::optional<Schedule> from_value(const nlohmann::json& j, const std::string& file, const std::string& path,
                                            InputError& error, ScheduleStream* streamed = nullptr);
  // save streams to_json()'s text and a newline to `path`; on error returns false and sets `error`.
  bool save(const std::string& path, std::string& error) const;
  // load reads a schedule saved by save() (at most kScheduleBytesMax); on error
  // returns nullopt and sets `error` to the one line to print.
  static std::optional<Schedule> load(const std::string& path, std::string& error);

  // operator== compares decisions, switches and seed; strategy fields are
  // informational only.
  friend bool operator==(const Schedule& a, const Schedule& b) {
    return a.seed == b.seed && a.decisions == b.decisions && a.switches == b.switches &&
           a.reads_listed == b.reads_listed && a.reads == b.reads;
  }
};

// ScheduleStream reads the decisions and switches of the schedule at `path` of a
// document ("$" for a schedule file, "$.schedule" in a reproduction) element by
// element while the document is parsed: pass streams() to parse_json_input, then
// this to Schedule::from_value. Each element is checked as it comes, with its path.
struct ScheduleStream {
  ScheduleStream(std::string file, std::string path) : reader_(std::move(file)), path_(std::move(path)) {}
  std::vector<ArrayStream> streams();

  std::vector<Decision> decisions;
  std::vector<Switch> switches;

 private:
  JsonReader reader_;
  std::string path_;
};

}  // namespace weft::sim
