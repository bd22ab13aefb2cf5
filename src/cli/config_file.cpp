#include "config_file.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "moecollab/util/error.h"

namespace moecollab::cli {

void refuse_message_placeholders(const std::string& text, const std::string& where) {
  for (std::size_t open = text.find('%'); open != std::string::npos; open = text.find('%', open + 1)) {
    const std::size_t close = text.find('%', open + 1);
    if (close == std::string::npos) return;
    const auto word = text.substr(open + 1, close - open - 1);
    if (!word.empty() && std::all_of(word.begin(), word.end(), [](char c) { return std::islower(c) || c == '_'; })) {
      throw Error(where + ": '%" + word +
                  "%' cannot appear in an option or a value (a placeholder of the parser's messages)");
    }
  }
}

void store_config_stream(std::istream& in, const std::string& path, const po::options_description& options,
                         const std::set<std::string>& other_commands, po::variables_map& vm) {
  std::ostringstream text;
  text << in.rdbuf();
  refuse_message_placeholders(text.str(), "config " + path);
  std::istringstream checked(text.str());
  try {
    auto parsed = po::parse_config_file(checked, options, /*allow_unregistered=*/true);
    for (const auto& option : parsed.options) {
      if (option.unregistered && !other_commands.count(option.string_key)) {
        throw Error("config " + path + ": unrecognised option '" + option.string_key +
                    "' (no moecollab command takes it)");
      }
    }
    // The command line wins, for repeatable options too: drop the file's values of what it set.
    auto& items = parsed.options;
    items.erase(
        std::remove_if(items.begin(), items.end(),
                       [&](const po::option& o) { return vm.count(o.string_key) && !vm[o.string_key].defaulted(); }),
        items.end());
    po::store(parsed, vm);
  } catch (const po::error& e) {
    throw Error("config " + path + ": " + e.what());
  }
}

}  // namespace moecollab::cli
