// repository_relative: race and assertion messages name files from the repository
// root (engine/...), never by a checkout's absolute path or a build-relative one.
#include <gtest/gtest.h>

#include <string>

#include "weft/sim/detail/source_path.hpp"

namespace {

using weft::sim::detail::repository_relative;
using weft::sim::detail::source_roots;

TEST(SourcePath, BothRootsAreCompiledInAndEndInASlash) {
  const auto roots = source_roots();
  ASSERT_FALSE(roots.absolute.empty());
  EXPECT_EQ(roots.absolute.front(), '/');
  EXPECT_EQ(roots.absolute.back(), '/');
  ASSERT_FALSE(roots.from_build.empty());
  EXPECT_EQ(roots.from_build.back(), '/');
}

TEST(SourcePath, AnEngineHeaderByItsAbsolutePathIsNamedFromTheRepositoryRoot) {
  const std::string path = std::string(source_roots().absolute) + "engine/include/weft/task.hpp";
  EXPECT_EQ(repository_relative(path), "engine/include/weft/task.hpp");
}

TEST(SourcePath, AnEngineHeaderByItsBuildRelativePathIsNamedFromTheRepositoryRoot) {
  const std::string path = std::string(source_roots().from_build) + "engine/include/weft/task.hpp";
  EXPECT_EQ(repository_relative(path), "engine/include/weft/task.hpp");
}

TEST(SourcePath, APathOutsideTheRepositoryIsLeftAlone) {
  EXPECT_EQ(repository_relative("/usr/include/c++/12/bits/atomic_base.h"), "/usr/include/c++/12/bits/atomic_base.h");
  EXPECT_EQ(repository_relative("engine/src/task.cpp"), "engine/src/task.cpp");
}

// This file's own path, however the compiler was given it, is named from the root.
TEST(SourcePath, ThisTestFileIsNamedFromTheRepositoryRoot) {
  EXPECT_EQ(repository_relative(__FILE__), "tests/sim/source_path_test.cpp");
}

}  // namespace
