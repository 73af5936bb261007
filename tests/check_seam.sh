#!/usr/bin/env bash
# Fails if engine code outside the OS backend names std concurrency, a std clock
# or a random source: everything must go through the platform seam so the
# simulator sees every synchronisation point.
set -u
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
pattern='std::(thread|jthread|mutex|shared_mutex|recursive_mutex|timed_mutex|atomic|atomic_flag|condition_variable|this_thread|chrono::(steady|system|high_resolution)_clock|random_device|mt19937|minstd_rand|default_random_engine|uniform_int_distribution|uniform_real_distribution)\b|\b(rand|srand|time|clock_gettime|gettimeofday|usleep|nanosleep)\s*\(|<thread>|<atomic>|<condition_variable>|<random>'
hits=$(grep -rnE "$pattern" "$root/engine" --include='*.hpp' --include='*.cpp' --include='*.h' \
       | grep -v "$root/engine/include/weft/platform/os.hpp" || true)
if [ -n "$hits" ]; then
  echo "engine code bypasses the platform seam:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "seam check: engine/ names no std concurrency, clock or random source outside the OS backend"
