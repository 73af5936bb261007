#!/usr/bin/env bash
# Fails if engine code outside the OS backend names std concurrency, a std clock
# or a random source: everything must go through the platform seam so the
# simulator sees every synchronisation point. Also fails if engine code includes
# a backend by name: only each build's backend folder (engine/platform/<backend>/)
# may, through its weft/platform/backend.hpp, so the build chooses the backend.
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

check() {
  local root="$1" status=0
  local files=(--include='*.hpp' --include='*.cpp' --include='*.h')
  local pattern='std::(thread|jthread|mutex|shared_mutex|recursive_mutex|timed_mutex|atomic|atomic_flag|condition_variable|this_thread|chrono::(steady|system|high_resolution)_clock|random_device|mt19937|minstd_rand|default_random_engine|uniform_int_distribution|uniform_real_distribution)\b|\b(rand|srand|time|clock_gettime|gettimeofday|usleep|nanosleep)\s*\(|<thread>|<atomic>|<condition_variable>|<random>'
  refuse "engine code bypasses the platform seam:" \
    "$(grep -rnE "$pattern" "$root/engine" "${files[@]}" | grep -v "^$root/engine/platform/os/include/weft/platform/os.hpp:")" || status=1
  refuse "engine code includes a backend by name (the build chooses it through weft/platform/backend.hpp):" \
    "$(grep -rnE '#\s*include\s*[<"]weft/platform/(os|sim)\.hpp[>"]' "$root/engine" "${files[@]}" \
       | grep -vE "^$root/engine/platform/[a-z]+/include/weft/platform/backend.hpp:")" || status=1
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
