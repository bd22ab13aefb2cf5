// Small text helpers that messages everywhere use.
#pragma once

#include <string>
#include <vector>

namespace moecollab {

// The items with `separator` between them: join({"a", "b"}) == "a, b".
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

// Each item followed by a newline, and back (what ranks all-gather as one string):
// split_lines(join_lines(items)) == items for items without a newline.
std::string join_lines(const std::vector<std::string>& items);
std::vector<std::string> split_lines(const std::string& text);

}  // namespace moecollab
