#!/usr/bin/env bash
# Fails if engine code outside the OS backend names std concurrency, a std clock
# or a random source: everything must go through the platform seam so the
# simulator sees every synchronisation point. Also fails if engine code includes
# a backend by name: only each build's backend folder (engine/platform/<backend>/)
# may, through its weft/platform/backend.hpp, so the build chooses the backend.
# Also fails if a data member of a type that two threads reach says neither how
# it is shared nor why it need not be. Which types two threads reach is decided
# mechanically: every struct or class defined in engine/ (outside the backends)
# whose own body has a member of a seam synchronisation type (Atomic<...>,
# Cell<...>, Mutex, Parker, AsyncMutex, Notify) is one, since a type synchronises
# only what more than one thread touches; kSharedTypes below adds the types that
# two threads reach without holding a synchronisation member of their own. A
# member's
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

# kSharedTypes: FILE:TYPE, types whose objects two threads reach that hold no
# synchronisation member (the derived ones need no entry; listing one is harmless).
kSharedTypes=(
  engine/include/weft/task.hpp:PromiseLink
  engine/include/weft/task.hpp:TaskHeader
  engine/src/queues.hpp:InjectQueue
  engine/src/queues.hpp:LocalQueue
  engine/src/queues.hpp:LifoSlot
  engine/src/multi_thread/multi_thread.hpp:Core
  engine/src/multi_thread/multi_thread.hpp:Remote
  engine/src/multi_thread/multi_thread.hpp:WorkerStats
  engine/src/owned_tasks.hpp:OwnedTasks
)

# synchronising_types ROOT: prints FILE:TYPE (FILE relative to ROOT) for each
# struct or class in ROOT/engine, outside the backends, with a member of a seam
# synchronisation type in its own body (nested types are judged on their own).
synchronising_types() {
  local root="$1" f
  while IFS= read -r f; do
    awk -v file="${f#"$root"/}" '
      function strip(s) { sub(/\/\/.*/, "", s); return s }
      {
        code = strip($0)
        if (code !~ /;[[:space:]]*$/ && code !~ /enum[[:space:]]+class/ &&
            match(code, /(^|[^A-Za-z0-9_])(struct|class)[[:space:]]+(alignas\([0-9]+\)[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*/)) {
          s = substr(code, RSTART, RLENGTH)
          sub(/.*(struct|class)[[:space:]]+(alignas\([0-9]+\)[[:space:]]+)?/, "", s)
          pending = s
        }
        n = split(code, ch, "")
        for (i = 1; i <= n; i++) {
          if (ch[i] == "{") { depth++; if (pending != "") { sp++; name[sp] = pending; at[sp] = depth; pending = "" } }
          if (ch[i] == "}") { if (sp > 0 && at[sp] == depth) sp--; depth-- }
        }
        if (sp > 0 && depth == at[sp] && code ~ /;[[:space:]]*$/ &&
            code ~ /(^|[^A-Za-z0-9_])(Atomic|Cell)<.*>[[:space:]]+[A-Za-z_]|(^|[^A-Za-z0-9_])(Mutex|Parker|AsyncMutex|Notify)[[:space:]]+[A-Za-z_]/)
          shared[name[sp]] = 1
      }
      END { for (t in shared) print file ":" t }' "$f"
  done < <(grep -rlE --include='*.hpp' --include='*.cpp' 'Atomic<|Cell<|Mutex|Parker|Notify' "$root/engine" | grep -v "^$root/engine/platform/" | sort)
}

# unmarked_members FILE TYPE PATH [TYPES]: prints FILE:LINE: TEXT for each data
# member of the type's body (brace depth 1, or the body of an anonymous union
# there: its members are the type's) that the rule above does not accept;
# TYPES ("A|B|...") are the shared types a member may hold by value.
unmarked_members() {
  awk -v type="$2" -v file="$1" -v shared="${4:-TaskHeader}" '
    function strip(s) { sub(/\/\/.*/, "", s); return s }
    !inside && $0 ~ "^[[:space:]]*(struct|class)[[:space:]]+(alignas\\([0-9]+\\)[[:space:]]+)?" type "([[:space:]]|$|:|\\{)" {
      inside = 1; depth = 0; started = 0; ud = 0
    }
    inside {
      code = strip($0)
      line_depth = depth
      n = split(code, ch, "")
      for (i = 1; i <= n; i++) {
        if (ch[i] == "{") { depth++; started = 1 }
        if (ch[i] == "}") depth--
      }
      if (line_depth == 1 && code ~ /^[[:space:]]*union[[:space:]]*\{[[:space:]]*$/) ud = 2
      if (ud && depth < ud && line_depth >= ud) ud = 0
      member_depth = line_depth == 1 || (ud && line_depth == ud)
      # A declaration over several lines ("A a,\n b;") is judged whole, by its last
      # line, with the comment of any of its lines.
      if (member_depth && cont != "") { code = cont " " code; said = said " " $0; cont = "" } else said = $0
      if (member_depth && code ~ /,[[:space:]]*$/ && code !~ /[;{}]/) { cont = code; next }
      # A member: a declaration ending in ";" at the depth of the type body, not a
      # function (a ")" followed only by qualifiers), a type, an alias or static.
      if (member_depth && code ~ /;[[:space:]]*$/ && code !~ /^[[:space:]]*\}/ &&
          code !~ /\)[[:space:]]*(const|noexcept|override|final|&|[[:space:]])*(=[[:space:]]*(0|default|delete))?[[:space:]]*;[[:space:]]*$/ &&
          code !~ /^[[:space:]]*(using|friend|static|template|return|enum|struct|class|public|private|protected|typedef)([[:space:]]|:|$)/ &&
          code ~ /[A-Za-z_][A-Za-z0-9_]*[[:space:]]*(\[[^]]*\])?[[:space:]]*(\{[^}]*\}|=[^;]*)?;[[:space:]]*$/) {
        ok = code ~ ("(^|[^A-Za-z0-9_])(Atomic|Cell|Mutex|Parker|Counter|Flag|Thread|TaskState|AsyncMutex|Notify|" shared ")[[:space:]]+[A-Za-z_]") ||
             code ~ /(^|[^A-Za-z0-9_])(Atomic|Cell)</ ||
             code ~ /^[[:space:]]*const[[:space:]]/ || code ~ /\*[[:space:]]*const[[:space:]]/ ||
             code ~ /&[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*;[[:space:]]*$/ ||
             said ~ /\/\/.*(guarded by|owner only|before publication)/
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
  local -a types
  mapfile -t types < <({ printf '%s\n' "${kSharedTypes[@]}"; synchronising_types "$root"; } | sort -u)
  local names
  names="$(printf '%s\n' "${types[@]}" | sed 's/.*://' | sort -u | paste -sd'|')"
  for entry in "${types[@]}"; do
    if [ ! -f "$root/${entry%%:*}" ]; then
      hits+="${entry%%:*}: missing (the shared-type list names it)"$'\n'
      continue
    fi
    local found
    found="$(unmarked_members "${entry%%:*}" "${entry##*:}" "$root/${entry%%:*}" "$names")"
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
  plant_after include/weft/task.hpp 'TaskHeader* owned_next_ = nullptr;' '  bool planted_flag_ = false;'
  plant_after src/queues.hpp 'Atomic<std::uint32_t> tail_{0};' '  std::uint32_t planted_index_ = 0;  // a stealer reads it'
  plant_after src/multi_thread/multi_thread.hpp 'std::uint32_t tick = 0;' '  TaskHeader* planted_task = nullptr;'
  plant_after include/weft/task.hpp 'Cell<PromiseLink*> awaiting_{nullptr};' '  std::source_location planted_loc_{};'
  plant_after include/weft/task.hpp 'Cell<std::exception_ptr> thrown_;' '    std::exception_ptr planted_in_union_;'
  # A type the list does not name, holding an atomic and a plain field; a member
  # whose type has parentheses; a declaration over two lines; a oneshot field.
  plant_after src/runtime_core.hpp 'namespace detail {' 'struct PlantedShared {\n  Atomic<std::uint32_t> flag{0};\n  std::uint64_t payload = 0;\n};'
  plant_after include/weft/task.hpp 'TaskHeader* owned_next_ = nullptr;' '  std::function<void()> planted_fn_;'
  plant_after src/queues.hpp 'Atomic<std::uint32_t> tail_{0};' '  std::uint32_t planted_a_ = 0,\n      planted_b_ = 0;'
  plant_after include/weft/sync.hpp 'Cell<Waker> rx_waker;' '  std::optional<T> planted_value;'
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
