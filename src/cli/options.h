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
// A config file may hold the keys of every pipeline command (build-vocab,
// pretrain, train: pipeline_config_keys()); each command takes its own, and a
// key that no command knows is an Error naming the file and the key.
bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& options,
                   po::variables_map& vm, const po::positional_options_description* positional = nullptr);

}  // namespace moecollab::cli
