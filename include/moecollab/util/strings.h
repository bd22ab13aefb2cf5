// Small text helpers that messages everywhere use.
#pragma once

#include <string>
#include <vector>

namespace moecollab {

// The items with `separator` between them: join({"a", "b"}) == "a, b".
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace moecollab
