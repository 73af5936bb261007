// build_id: the build identity sweep summaries carry (see build_id.hpp).
#include "build_id.hpp"

#include "weft/trace/format.hpp"

namespace weft::build_id {

std::string identity() { return weft::trace::version_string() + ", commit " + source_commit(); }

}  // namespace weft::build_id
