// Shared command-line plumbing for the subcommands: parsing the command line
// plus an optional INI config file (`--config`; the command line wins), and
// `--help` that prints every option with its default.
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace moecollab::cli {

namespace po = boost::program_options;

// A boolean option: `--name` alone means true, and `--name VALUE` / `--name=VALUE`
// on the command line and `name = VALUE` in a config file all take the same
// spellings (true/false, 1/0, yes/no, on/off); any other value is an error.
// --help shows the default as true/false. `field` (may be null) holds the
// default and receives the value.
po::typed_value<bool>* flag(bool* field, bool default_value = false);

// Adds --help and --config to `options`, parses argv (after the subcommand
// name) and the config file, and notifies. Returns false when --help was
// given (help is printed, the caller exits 0). Throws Error on bad options.
// Both sources are equally strict: no abbreviated option names, no stray
// words (only `positional` ones), unknown keys refused. A config file may hold
// the keys of every pipeline command (build-vocab, pretrain, train:
// pipeline_config_keys()); each command takes its own, and a key that no
// command knows is an Error naming the file and the key. An option given on
// the command line replaces the config file's value(s) — for a repeatable
// option such as --domain, all of them. `hidden` options are parsed but not
// listed by --help (those that positional arguments fill).
// Stores the values of a config file (INI) for `options` into `vm`, with parse_options'
// checks: keys no command knows are an Error naming the file; values already on
// the command line (in `vm`, not defaulted) win. The caller notifies.
void store_config_file(const std::string& path, const po::options_description& options, po::variables_map& vm);

bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& options,
                   po::variables_map& vm, const po::positional_options_description* positional = nullptr,
                   const po::options_description* hidden = nullptr);

}  // namespace moecollab::cli
