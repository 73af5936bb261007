// UsageError: what the testing API throws at a misuse it can name (a facade type
// used outside an exploration, an environment variable that does not parse).
#pragma once

#include <stdexcept>
#include <string>

namespace weft::testing {

// UsageError carries a one-line message saying what was wrong and what was expected.
class UsageError : public std::logic_error {
 public:
  explicit UsageError(const std::string& what) : std::logic_error(what) {}
};

}  // namespace weft::testing
