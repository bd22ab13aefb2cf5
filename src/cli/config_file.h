// Reading an INI config file (Boost.Program_options syntax: `key = value`,
// `[section]`, `#` comments) into a variables_map, with MoECollab's rules:
// keys that no pipeline command takes are refused, and what the command line
// already set wins. Torch-free, so that the parser can be fuzzed on its own
// (tests/fuzz/config_file_fuzz.cpp).
#pragma once

#include <boost/program_options.hpp>
#include <istream>
#include <set>
#include <string>

namespace moecollab::cli {

namespace po = boost::program_options;

// Throws Error (naming `where`) when `text` holds a word between two '%' signs
// ("%value%"): Boost.Program_options substitutes such placeholders into its
// messages and never stops when the replacement holds the placeholder again,
// so such an input would hang the error report instead of producing one.
void refuse_message_placeholders(const std::string& text, const std::string& where);

// Stores the options of `in` (read as the config file `path`) into `vm`. A key
// in `options` is taken; a key only in `other_commands` (another pipeline
// command's) is skipped; any other key is an Error naming `path` and the key, and
// so is a malformed line, a bad value, a key given twice that takes one value, or a
// placeholder (refuse_message_placeholders).
void store_config_stream(std::istream& in, const std::string& path, const po::options_description& options,
                         const std::set<std::string>& other_commands, po::variables_map& vm);

}  // namespace moecollab::cli
