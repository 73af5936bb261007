// build_id: which build of weft ran a sweep. Summaries record it and merge
// compares it, so shards of different builds (another commit, another build type)
// are not added up as one sweep. The trace header keeps only the version and
// build type (trace::version_string): traces of two commits that do not change
// behaviour must stay byte-identical (tools/trace_compare compares them).
#pragma once

#include <string>

namespace weft::build_id {

// source_commit names the commit the build's sources came from: 40 hex digits,
// "+dirty" appended when a tracked file differed from it at build time, or
// "unknown" when the sources were not a git work tree (a tarball). Written at
// build time by cmake/source_commit.cmake.
const char* source_commit() noexcept;

// identity names this build for sweeps: the version and build type, then the
// commit, e.g. "weft 0.1.0 (release), commit 4353ce8a...+dirty".
std::string identity();

}  // namespace weft::build_id
