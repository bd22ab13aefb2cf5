// Shared command-line plumbing for the subcommands: parsing the command line
// plus an optional INI config file (`--config`; the command line wins), and
// `--help` that prints every option with its default.
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace moecollab::cli {

namespace po = boost::program_options;

// Adds --help and --config to `options`, parses argv (after the subcommand
// name) and the config file, and notifies. Returns false when --help was
// given (help is printed, the caller exits 0). Throws Error on bad options.
// `ignore_unknown_config_keys` lets a tool read a run's config file that also
// holds other subcommands' keys; training commands keep it false so a typo fails.
bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& options,
                   po::variables_map& vm, bool ignore_unknown_config_keys = false,
                   const po::positional_options_description* positional = nullptr);

}  // namespace moecollab::cli
