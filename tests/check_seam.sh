#!/usr/bin/env bash
# Fails if engine code outside the OS backend names std concurrency, a std clock
# or a random source: everything must go through the platform seam so the
# simulator sees every synchronisation point. Also fails if engine code includes
# a backend by name: only each build's backend folder (engine/platform/<backend>/)
# may, through its weft/platform/backend.hpp, so the build chooses the backend.
# Also fails if a data member of a type that two threads reach (the list in
# kSharedTypes below) says neither how it is shared nor why it need not be:
# its type must be a seam type (Atomic, Cell, Mutex, Parker, Counter, Flag,
# Thread, TaskState, a seam-built sync type, or a type of the list by value),
# or be const (immutable once constructed), or its line must end in a comment naming its
# guard: "guarded by <lock>", "owner only" (one thread touches it) or "before
# publication" (written before another thread can reach the object, read-only
# after). A plain field a second thread reaches must be a Cell, so the simulator
# checks it for data races; the rule makes a new one impossible to add unmarked.
#   check_seam.sh [ROOT]        check ROOT (default: this repository)
#   check_seam.sh --self-test   plant each kind of bypass in a copy of engine/ and
#                               fail unless the check catches every one
set -u
here="$(cd "$(dirname "$0")/.." && pwd)"

# refuse TITLE HITS: prints the hits under TITLE and fails if there are any.
refuse() {
  [ -z "$2" ] && return 0
  echo "$1" >&2
  echo "$2" >&2
  return 1
}

# kSharedTypes: FILE:TYPE, the types whose objects two threads reach.
kSharedTypes=(
  engine/include/weft/task.hpp:PromiseLink
  engine/include/weft/task.hpp:TaskHeader
  engine/src/queues.hpp:InjectQueue
  engine/src/queues.hpp:LocalQueue
  engine/src/queues.hpp:LifoSlot
  engine/src/multi_thread/multi_thread.hpp:Core
  engine/src/multi_thread/multi_thread.hpp:Remote
)

# unmarked_members FILE TYPE: prints FILE:LINE: TEXT for each data member of the
# type's body (brace depth 1) that the rule above does not accept.
unmarked_members() {
  awk -v type="$2" -v file="$1" '
    function strip(s) { sub(/\/\/.*/, "", s); return s }
    !inside && $0 ~ "^[[:space:]]*(struct|class)[[:space:]]+(alignas\\([0-9]+\\)[[:space:]]+)?" type "([[:space:]]|$|:|\\{)" {
      inside = 1; depth = 0; started = 0
    }
    inside {
      code = strip($0)
      line_depth = depth
      n = split(code, ch, "")
      for (i = 1; i <= n; i++) {
        if (ch[i] == "{") { depth++; started = 1 }
        if (ch[i] == "}") depth--
      }
      if (line_depth == 1 && code ~ /;[[:space:]]*$/ && code !~ /\(/ &&
          code !~ /^[[:space:]]*(using|friend|static|template|return|enum|struct|class|public|private|protected|typedef)\b/ &&
          code ~ /[A-Za-z_][A-Za-z0-9_]*[[:space:]]*(\[[^]]*\])?[[:space:]]*(\{[^}]*\}|=[^;]*)?;[[:space:]]*$/) {
        ok = code ~ /(^|[^A-Za-z0-9_])(Atomic|Cell|Mutex|Parker|Counter|Flag|Thread|TaskState|AsyncMutex|Notify|PromiseLink|TaskHeader|InjectQueue|LocalQueue|LifoSlot|Core|Remote)[[:space:]]+[A-Za-z_]/ ||
             code ~ /(^|[^A-Za-z0-9_])(Atomic|Cell)</ ||
             code ~ /^[[:space:]]*const[[:space:]]/ || code ~ /\*[[:space:]]*const[[:space:]]/ ||
             $0 ~ /\/\/.*(guarded by|owner only|before publication)/
        if (!ok) printf "%s:%d: %s\n", file, FNR, $0
      }
      if (started && depth == 0) inside = 0
    }' "$3"
}

check() {
  local root="$1" status=0
  local files=(--include='*.hpp' --include='*.cpp' --include='*.h')
  local pattern='std::(thread|jthread|mutex|shared_mutex|recursive_mutex|timed_mutex|atomic|atomic_flag|condition_variable|this_thread|chrono::(steady|system|high_resolution)_clock|random_device|mt19937|minstd_rand|default_random_engine|uniform_int_distribution|uniform_real_distribution)\b|\b(rand|srand|time|clock_gettime|gettimeofday|usleep|nanosleep)\s*\(|<thread>|<atomic>|<condition_variable>|<random>'
  refuse "engine code bypasses the platform seam:" \
    "$(grep -rnE "$pattern" "$root/engine" "${files[@]}" | grep -v "^$root/engine/platform/os/include/weft/platform/os.hpp:")" || status=1
  refuse "engine code includes a backend by name (the build chooses it through weft/platform/backend.hpp):" \
    "$(grep -rnE '#\s*include\s*[<"]weft/platform/(os|sim)\.hpp[>"]' "$root/engine" "${files[@]}" \
       | grep -vE "^$root/engine/platform/[a-z]+/include/weft/platform/backend.hpp:")" || status=1
  local hits="" entry
  for entry in "${kSharedTypes[@]}"; do
    if [ ! -f "$root/${entry%%:*}" ]; then
      hits+="${entry%%:*}: missing (the shared-type list names it)"$'\n'
      continue
    fi
    local found
    found="$(unmarked_members "${entry%%:*}" "${entry##*:}" "$root/${entry%%:*}")"
    [ -n "$found" ] && hits+="$found"$'\n'
  done
  hits="${hits%$'\n'}"
  refuse "a member of a type two threads reach is plain and unmarked (make it a Cell, or say 'guarded by <lock>', 'owner only' or 'before publication'):" \
    "$hits" || status=1
  return $status
}

if [ "${1:-}" = "--self-test" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  failed=0
  plant() {  # plant FILE LINE: a copy of engine/ with LINE appended to FILE must fail
    rm -rf "$tmp/engine"
    cp -r "$here/engine" "$tmp/engine"
    echo "$2" >> "$tmp/engine/$1"
    if check "$tmp" 2>/dev/null; then
      echo "seam check self-test: missed '$2' in engine/$1" >&2
      failed=1
    fi
  }
  plant src/runtime_core.cpp 'static std::mutex planted;'
  plant include/weft/runtime.hpp '#include <atomic>'
  plant platform/sim/include/weft/platform/os.hpp 'std::thread planted;'
  plant include/weft/platform/platform.hpp '#include "weft/platform/sim.hpp"'
  plant src/task.cpp '#include "weft/platform/os.hpp"'
  plant_after() {  # plant_after FILE PATTERN LINE: LINE inserted after PATTERN's first match must fail
    rm -rf "$tmp/engine"
    cp -r "$here/engine" "$tmp/engine"
    if ! grep -qF -- "$2" "$tmp/engine/$1"; then
      echo "seam check self-test: '$2' not found in engine/$1" >&2
      failed=1
      return
    fi
    awk -v pat="$2" -v add="$3" '{ print } !done && index($0, pat) { print add; done = 1 }' "$here/engine/$1" > "$tmp/engine/$1"
    if check "$tmp" 2>/dev/null; then
      echo "seam check self-test: missed the unmarked member '$3' in engine/$1" >&2
      failed=1
    fi
  }
  plant_after include/weft/task.hpp 'bool is_block_on_ = false;' '  bool planted_flag_ = false;'
  plant_after src/queues.hpp 'Atomic<std::uint32_t> tail_{0};' '  std::uint32_t planted_index_ = 0;  // a stealer reads it'
  plant_after src/multi_thread/multi_thread.hpp 'std::uint32_t tick = 0;' '  TaskHeader* planted_task = nullptr;'
  plant_after include/weft/task.hpp 'Cell<const char*> leaf_{nullptr};' '  std::source_location planted_loc_{};'
  if ! check "$here" >/dev/null; then
    echo "seam check self-test: the unmodified engine fails the check" >&2
    failed=1
  fi
  [ $failed -eq 0 ] && echo "seam check self-test: every planted bypass was caught"
  exit $failed
fi

root="${1:-$here}"
check "$root" || exit 1
echo "seam check: engine/ names no std concurrency, clock or random source outside the OS backend, and no backend by name"
