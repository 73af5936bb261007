// The program interpreter (see interpreter.hpp): one coroutine per program
// instance, one case per Step kind.
#include "interpreter.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <utility>

#include "checks/invariants.hpp"
#include "places.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/detail/kernel.hpp"
#include "weft/sim/json_input.hpp"
#include "weft/sim/simulator.hpp"
#include "weft/time.hpp"

namespace weft::sim {
namespace {

using weft::Task;

// UidToken travels in a program's frame: when the frame is destroyed without the
// program completing, the task was cancelled (possibly before it ever started).
struct UidToken {
  ProgramState* st;
  std::uint64_t uid;
  bool armed = true;
  UidToken(ProgramState* s, std::uint64_t u) : st(s), uid(u) { ++st->live_tokens; }
  UidToken(UidToken&& o) noexcept : st(o.st), uid(o.uid), armed(std::exchange(o.armed, false)) {}
  UidToken(const UidToken&) = delete;
  ~UidToken() {
    if (!armed) return;
    --st->live_tokens;
    if (!st->completed[uid]) ++st->cancelled[uid];
  }
};

Task<void> run_program(ProgramState* st, const Program* p, UidToken token);

// answer runs program `p` as the task of an `ask` step and sends its instance's
// uid on `tx` when the program completes; a throw or a cancellation drops `tx`
// unsent, and the asker's receive throws RecvError.
Task<void> answer(ProgramState* st, const Program* p, UidToken token, weft::oneshot::Sender<std::uint64_t> tx) {
  const std::uint64_t uid = token.uid;
  co_await run_program(st, p, std::move(token));
  tx.send(uid);  // false when the asker is gone (cancelled): nobody waits for it
}

using Wait = ProgramState::Wait;

// Awaiting notes, for describe_waits, what the instance `uid` awaits until the
// await returns (or the frame is destroyed by a cancellation).
struct Awaiting {
  ProgramState* st;
  std::uint64_t uid;
  Awaiting(ProgramState* s, std::uint64_t u, Wait w, const Step& step, std::uint64_t on_task = 0) : st(s), uid(u) {
    auto& at = st->at[uid];
    at.wait = w;
    at.step = &step;
    at.on_task = on_task;
  }
  Awaiting(const Awaiting&) = delete;
  ~Awaiting() { st->at[uid].wait = Wait::none; }
};

Task<void> run_steps(ProgramState* st, const std::vector<Step>* steps, std::vector<weft::JoinHandle<void>>* children,
                     std::uint64_t uid) {
  st->step_taken(uid);  // a repeat's iteration, even of an empty body
  for (const Step& s : *steps) {
    st->step_taken(uid);
    switch (s.kind) {
      case Step::Kind::spawn:
        for (std::uint64_t i = 0; i < s.count; ++i) {
          std::uint64_t uid = st->new_uid();
          auto jh = weft::spawn(run_program(st, &st->sc->programs.at(s.name), UidToken(st, uid)));
          if (s.detach) jh.detach(); else children->push_back(std::move(jh));
        }
        break;
      case Step::Kind::ask: {
        // Spawn every answerer first, then await the replies in spawn order: each
        // reply is a value another worker wrote and published through the oneshot.
        std::vector<std::pair<std::uint64_t, weft::oneshot::Receiver<std::uint64_t>>> replies;
        for (std::uint64_t i = 0; i < s.count; ++i) {
          auto [tx, rx] = weft::oneshot::channel<std::uint64_t>();
          const std::uint64_t child = st->new_uid();
          weft::spawn(answer(st, &st->sc->programs.at(s.name), UidToken(st, child), std::move(tx))).detach();
          replies.emplace_back(child, std::move(rx));
        }
        for (auto& [child, rx] : replies) {
          const auto mark = st->budget_mark();
          std::optional<std::uint64_t> got;  // the answerer's uid, when it answered
          try {
            Awaiting a(st, uid, Wait::reply, s);
            got = co_await rx;
          } catch (const weft::oneshot::RecvError&) {
          }
          st->budget_after(mark, "reply");
          // The answerer sends right after its program completes, with no await
          // between: a completed program's reply is never lost.
          if (!got && st->completed[child])
            invariant_failed("ask: instance " + std::to_string(child) +
                             " completed its program but its reply was lost (the receive saw the sender dropped)");
        }
        break;
      }
      case Step::Kind::join:
        for (auto& c : *children) {
          try {
            const auto mark = st->budget_mark();
            {
              Awaiting a(st, uid, Wait::join, s, c.id());
              co_await c;
            }
            st->budget_after(mark, "join");
          } catch (const weft::JoinError&) {
            // Aborted or threw: the bookkeeping records which.
          }
        }
        children->clear();
        break;
      case Step::Kind::abort_children:
        if (st->places != nullptr && !children->empty()) {
          std::vector<std::uint64_t> ids;
          for (const auto& c : *children) ids.push_back(c.id());
          st->places->note(Action::abort, st->places->sample(&ids));
        }
        for (auto& c : *children) c.abort();
        break;
      case Step::Kind::yield:
        for (std::uint64_t i = 0; i < s.count; ++i) {
          Awaiting a(st, uid, Wait::yield, s);
          co_await weft::yield_now();
        }
        break;
      case Step::Kind::work:
        consume(s.ns);  // the worker is busy: a long poll in virtual time
        break;
      case Step::Kind::sleep: {
        const auto mark = st->budget_mark();
        {
          Awaiting a(st, uid, Wait::sleep, s);
          co_await weft::sleep_for(std::chrono::nanoseconds(s.ns));
        }
        st->budget_after(mark, "sleep");
        break;
      }
      case Step::Kind::send: {
        auto tx = st->channels.at(s.name)->tx;
        for (std::uint64_t i = 0; i < s.count; ++i) {
          Awaiting a(st, uid, Wait::send, s);
          if (!co_await tx.send(i)) break;
        }
        break;
      }
      case Step::Kind::recv: {
        auto& ch = *st->channels.at(s.name);
        for (std::uint64_t i = 0; i < s.count; ++i) {
          auto mark = st->budget_mark();
          Awaiting a(st, uid, Wait::recv_lock, s);
          auto guard = co_await ch.rx_lock.lock();
          st->budget_after(mark, "channel lock");
          mark = st->budget_mark();
          st->at[uid].wait = Wait::recv;
          auto v = co_await ch.rx.recv();
          st->budget_after(mark, "recv");
          if (!v) break;
        }
        break;
      }
      case Step::Kind::notify:
        st->notify(s.name).notify_one();
        break;
      case Step::Kind::notified: {
        const auto mark = st->budget_mark();
        {
          Awaiting a(st, uid, Wait::notified, s);
          co_await st->notify(s.name).notified();
        }
        st->budget_after(mark, "notified");
        break;
      }
      case Step::Kind::repeat:
        for (std::uint64_t i = 0; i < s.count; ++i) co_await run_steps(st, &s.body, children, uid);
        break;
      case Step::Kind::racy_increment: {
        // A deliberate lost update: read, let others run, write back.
        auto& c = st->counter(s.name);
        ++st->increments[s.name];
        std::uint64_t v = c.load(weft::Order::seq_cst);
        {
          Awaiting a(st, uid, Wait::yield, s);
          co_await weft::yield_now();
        }
        c.store(v + 1, weft::Order::seq_cst);
        break;
      }
      case Step::Kind::throw_error:
        ++st->exceptions_thrown;
        throw std::runtime_error(s.name);
      case Step::Kind::dump: {
        st->dump_begin();
        try {
          Awaiting a(st, uid, Wait::dump, s);
          st->dumps.push_back(co_await weft::Handle::current().dump());
          ++st->dumps_from_task;
        } catch (const weft::DumpError&) {
          st->dump_refused();
        }
        st->dump_end();
        break;
      }
      case Step::Kind::blocking: {
        std::uint64_t ns = s.ns;
        auto jh = weft::spawn_blocking([ns] {
          if (ns) consume(ns);
          return 0;
        });
        Awaiting a(st, uid, Wait::blocking, s, jh.id());  // the places observer looks for this job
        co_await jh;
        break;
      }
    }
  }
}

Task<void> run_program(ProgramState* st, const Program* p, UidToken token) {
  ++st->started[token.uid];
  auto& at = st->at[token.uid];
  at.program = &p->name;
  const weft::ThreadContext* cx = weft::current_context();
  at.task = cx != nullptr && cx->current_task != nullptr ? cx->current_task->id() : 0;
  std::vector<weft::JoinHandle<void>> children;
  co_await run_steps(st, &p->steps, &children, token.uid);
  st->completed[token.uid] = 1;
}

}  // namespace

ProgramState::ProgramState(const Scenario& scenario) : sc(&scenario) {
  for (auto& [name, cap] : scenario.channels) {
    auto [tx, rx] = weft::mpsc::channel<std::uint64_t>(cap);
    auto ch = std::make_unique<Channel>();
    ch->tx = std::move(tx);
    ch->rx = std::move(rx);
    channels[name] = std::move(ch);
    note_progress();  // the harness's setup is not a livelock, however many channels it opens
  }
}

std::uint64_t ProgramState::new_uid() {
  started.push_back(0);
  completed.push_back(0);
  cancelled.push_back(0);
  at.emplace_back();
  return started.size() - 1;
}

void ProgramState::step_taken(std::uint64_t uid) {
  detail::Kernel* k = detail::tls_kernel;
  if (k == nullptr) return;
  if (k->steps() != decisions_seen) {
    decisions_seen = k->steps();
    quiet_steps = 0;
    return;
  }
  if (++quiet_steps <= kQuietStepsMax) return;
  // The step bound counts decisions: a loop that makes none would never reach it.
  const std::string* program = at[uid].program;
  k->fail(Outcome::step_bound_exceeded,
          "program " + (program ? *program : std::string("?")) + " ran " + std::to_string(kQuietStepsMax) +
              " steps in a row without a scheduling decision (a repeat whose body never awaits: an empty body, a "
              "join or abort_children without children); the step bound counts decisions, so it would never end");
}

ProgramState::BudgetMark ProgramState::budget_mark() {
  if (budget == nullptr || tearing_down()) return {};  // a failed run's report is final
  const weft::ThreadContext* cx = weft::current_context();
  if (cx == nullptr || cx->core == nullptr || cx->current_task == nullptr) return {};  // no budget here
  const std::uint64_t task = cx->current_task->id();
  return BudgetMark{true, task, budget->poll_seq(task)};
}

void ProgramState::budget_after(const BudgetMark& m, const char* what) {
  if (!m.on || tearing_down()) return;  // marked before the failure, ended in the teardown
  detail::Uncounted uncounted;  // the monitor's, not the program's (weft/sim/detail/heap.hpp, Step H2)
  std::string why = budget->ready_await(m.task, m.seq, what);
  if (!why.empty()) invariant_failed("budget: " + why);
}

namespace {

// kNameShownMax is how much of a scenario's name a report shows (bytes, escaped).
constexpr std::size_t kNameShownMax = 64;

// quoted renders a name from the scenario inside single quotes, escaped: control
// characters, invalid UTF-8 and invisible format characters as escapes (printable),
// a quote or backslash with a backslash, so that no name can end the quotes, split
// the line or pass for another part of the report; long names are shortened.
std::string quoted(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return "'" + shortened(printable(out), kNameShownMax) + "'";
}

// program_name is a program's name as the report shows it: bare when it is a
// plain identifier (what every shipped scenario uses), else quoted.
std::string program_name(const std::string* name) {
  if (name == nullptr) return "?";
  const bool plain = !name->empty() && name->size() <= kNameShownMax &&
                     name->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                         std::string::npos;
  return plain ? *name : quoted(*name);
}

// wait_text names what an instance awaits, with the scenario's names.
std::string wait_text(const ProgramState::At& at) {
  const std::string name = quoted(at.step->name);
  switch (at.wait) {
    case Wait::join: return "join of task " + std::to_string(at.on_task);
    case Wait::recv_lock: return "the receive lock of channel " + name;
    case Wait::recv: return "recv on channel " + name;
    case Wait::send: return "send on channel " + name + " (full)";
    case Wait::notified: return "Notify " + name;
    case Wait::sleep: return "sleep";
    case Wait::yield: return "yield";
    case Wait::dump: return "a dump";
    case Wait::blocking: return "blocking-pool task " + std::to_string(at.on_task);
    case Wait::reply: return "a reply from program " + name;
    case Wait::none: break;
  }
  return "?";
}

}  // namespace

std::string ProgramState::describe_waits() const {
  constexpr std::size_t kGroups = 8, kNamed = 4;  // keep the one line short
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  std::uint64_t waiting = 0;
  for (std::size_t uid = 0; uid < at.size(); ++uid) {
    const At& a = at[uid];
    if (a.wait == Wait::none || completed[uid] || cancelled[uid]) continue;
    ++waiting;
    const std::string what = wait_text(a);
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == what; });
    if (g == groups.end()) g = groups.insert(groups.end(), {what, {}});
    g->second.push_back("program " + program_name(a.program) + " (task " + std::to_string(a.task) + ")");
  }
  if (waiting == 0) return "";
  std::string out = "awaiting:";
  for (std::size_t i = 0; i < groups.size() && i < kGroups; ++i) {
    const auto& [what, who] = groups[i];
    out += (i ? "; " : " ") + what + " <- ";
    for (std::size_t j = 0; j < who.size() && j < kNamed; ++j) out += (j ? ", " : "") + who[j];
    if (who.size() > kNamed) out += " and " + std::to_string(who.size() - kNamed) + " more";
  }
  if (groups.size() > kGroups) out += "; and " + std::to_string(groups.size() - kGroups) + " more kinds of wait";
  return out;
}

weft::Notify& ProgramState::notify(const std::string& name) {
  auto& p = notifies[name];
  if (!p) p = std::make_unique<weft::Notify>();
  return *p;
}

weft::Atomic<std::uint64_t>& ProgramState::counter(const std::string& name) {
  auto& p = counters[name];
  if (!p) p = std::make_unique<weft::Atomic<std::uint64_t>>(0);
  return *p;
}

weft::Task<void> program_task(ProgramState& st, const Program& p) {
  return run_program(&st, &p, UidToken(&st, st.new_uid()));
}

}  // namespace weft::sim
