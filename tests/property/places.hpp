// The property "shutdown, dump and abort reach every place a task can sit":
// generated scenarios (Knobs::places) with tasks in LIFO slots, local queues,
// defer lists, the injection queue, the blocking pool's queue, on timers, waiting
// on channels, Notifies and a channel's receive lock, and running, shut down at a
// random moment (shutdown_at_ns), dumped by dumper threads (complete, and partial
// behind a stall that outlasts the barrier timeout) and aborted by their group
// programs after a random number of local steps. Each action records, detached,
// which places held a task at its moment (RunConfig::observe_places,
// harness/src/places.hpp). Every case must end with the exact leak count, empty
// waiter lists and every task completed or cancelled once (no_leak, exactly_once,
// dump_consistent); over the run, every (flavor, action, place) the scheduler has
// must be reached (PlaceCoverage::missing), so a generator that stops putting tasks
// in one place fails the test.
//
// Shared by tests/property/property_test.cpp (the engine) and
// tests/property/places_zoo_test.cpp (the zoo engine: it must fail on planted leaks).
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "weft/harness/generator.hpp"
#include "weft/harness/runner.hpp"

namespace weft::sim::property {

// The action kinds the coverage requires: a dump counts whether it came out
// complete or partial (both must occur, see kPlaceDumpKinds).
enum class PlaceAction : std::uint8_t { shutdown, dump, abort };
inline const char* place_action_name(PlaceAction a) {
  return a == PlaceAction::shutdown ? "shutdown" : a == PlaceAction::dump ? "dump" : "abort";
}
inline PlaceAction place_action_of(Action a) {
  if (a == Action::shutdown) return PlaceAction::shutdown;
  return a == Action::abort ? PlaceAction::abort : PlaceAction::dump;
}

// place_exists says whether a (flavor, action, place) can occur at all:
//  - the current-thread scheduler has no LIFO slot;
//  - its shutdown comes after block_on returned, and the driver's last tick moved
//    the yielded tasks to the local queue before it polled the root (steps 3 and
//    1 at the top of engine/src/current_thread.cpp): the defer list is empty (a
//    blocking-pool task may still be running on its thread);
//  - its abort_children runs inside the one poll its driver makes, so no child
//    of the aborting task is inside a poll.
inline bool place_exists(bool multi_thread, PlaceAction a, Place p) {
  if (multi_thread) return true;
  if (p == Place::lifo_slot) return false;
  if (a == PlaceAction::shutdown && p == Place::defer_list) return false;
  if (a == PlaceAction::abort && p == Place::running) return false;
  return true;
}

// PlaceCoverage counts, per "flavor action place", the cases whose action of that
// kind found a task in that place at its moment.
struct PlaceCoverage {
  std::map<std::string, std::uint64_t> reached;
  std::uint64_t cases = 0;

  static std::string key(bool multi_thread, const std::string& what, const std::string& place = {}) {
    return std::string(multi_thread ? "multi_thread" : "current_thread") + " " + what + (place.empty() ? "" : " " + place);
  }

  // add counts one case's samples, and classifies the case for RapidCheck's summary.
  void add(bool multi_thread, const RunReport& r) {
    ++cases;
    std::map<std::string, bool> seen;
    for (const PlaceSample& s : r.place_samples) {
      seen[key(multi_thread, action_name(s.action))] = true;
      const PlaceAction a = place_action_of(s.action);
      for (unsigned p = 0; p < static_cast<unsigned>(Place::count_); ++p) {
        if (s.places & (1u << p)) seen[key(multi_thread, place_action_name(a), place_name(static_cast<Place>(p)))] = true;
      }
    }
    for (const auto& [k, hit] : seen) reached[k] += hit ? 1 : 0;
    RC_CLASSIFY(multi_thread, "multi_thread");
    for (unsigned a = 0; a < static_cast<unsigned>(Action::count_); ++a) {
      const char* name = action_name(static_cast<Action>(a));
      RC_CLASSIFY(seen.count(key(multi_thread, name)) > 0, name);
    }
  }

  // missing lists every required pair no case reached: each existing (flavor,
  // action, place), and for each flavor a complete and a partial dump.
  std::vector<std::string> missing() const {
    std::vector<std::string> out;
    auto need = [&](const std::string& k) {
      auto it = reached.find(k);
      if (it == reached.end() || it->second == 0) out.push_back(k);
    };
    for (bool mt : {true, false}) {
      need(key(mt, "dump_complete"));
      need(key(mt, "dump_partial"));
      for (PlaceAction a : {PlaceAction::shutdown, PlaceAction::dump, PlaceAction::abort}) {
        for (unsigned p = 0; p < static_cast<unsigned>(Place::count_); ++p) {
          if (place_exists(mt, a, static_cast<Place>(p))) need(key(mt, place_action_name(a), place_name(static_cast<Place>(p))));
        }
      }
    }
    return out;
  }

  // table prints the counts, one line per flavor and action.
  std::string table() const {
    std::ostringstream os;
    for (bool mt : {true, false}) {
      for (const char* what : {"shutdown", "dump", "abort"}) {
        os << "  " << key(mt, what) << ":";
        for (unsigned p = 0; p < static_cast<unsigned>(Place::count_); ++p) {
          auto it = reached.find(key(mt, what, place_name(static_cast<Place>(p))));
          os << " " << place_name(static_cast<Place>(p)) << "=" << (it == reached.end() ? 0 : it->second);
        }
        os << "\n";
      }
      for (const char* what : {"dump_complete", "dump_partial"}) {
        auto it = reached.find(key(mt, what));
        os << "  " << key(mt, what) << ": " << (it == reached.end() ? 0 : it->second) << " cases\n";
      }
    }
    return os.str();
  }
};

// gen_places_case generates a case of the property, shut down at a random moment
// or dumped at random moments or both, with groups that abort, both flavors. A
// dump may be in flight when the runtime shuts down (dumpers that ask until the
// shutdown, detached dumping tasks): the collector must not read a frame that a
// worker outside the rendezvous cancels
// (tests/regressions/dump-collects-while-shutdown-cancels.repro.json).
inline rc::Gen<Case> gen_places_case() {
  return rc::gen::exec([] {
    Knobs k;
    k.places = true;
    k.dumps = *rc::gen::arbitrary<bool>();
    k.shutdown_early = !k.dumps || *rc::gen::arbitrary<bool>();
    Case c = *gen_case(k);
    c.sc.checks = {"exactly_once", "no_leak", "dump_consistent"};
    return c;
  });
}

// run_places_case runs a case under the random strategy, observing the places.
inline RunReport run_places_case(const Case& c, RunConfig& cfg) {
  cfg.seed = c.seed;
  cfg.strategy = StrategySpec::random();
  cfg.record_schedule = true;
  cfg.observe_places = true;
  return run_scenario(c.sc, cfg);
}

}  // namespace weft::sim::property
