#include "options.h"

#include <fstream>
#include <iostream>

#include "moecollab/util/error.h"
#include "run_options.h"

namespace moecollab::cli {

bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& options,
                   po::variables_map& vm, const po::positional_options_description* positional) {
  po::options_description common("General");
  common.add_options()
      ("help,h", "print this help and exit")
      ("config,c", po::value<std::string>(),
       "INI file of options (key = value, keys as the long option names without '--'); "
       "options given on the command line override it");
  po::options_description all;
  all.add(common).add(options);
  try {
    auto parser = po::command_line_parser(argc, argv).options(all);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << usage << "\n\n" << all << "\n";
      return false;
    }
    if (vm.count("config")) {
      const auto path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw Error("config " + path + ": cannot open file");
      try {
        auto parsed = po::parse_config_file(in, options, /*allow_unregistered=*/true);
        for (const auto& option : parsed.options) {
          if (option.unregistered && !pipeline_config_keys().count(option.string_key)) {
            throw Error("config " + path + ": unrecognised option '" + option.string_key + "' (no moecollab command takes it)");
          }
        }
        po::store(parsed, vm);
      } catch (const po::error& e) {
        throw Error("config " + path + ": " + e.what());
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see --help)");
  }
  return true;
}

}  // namespace moecollab::cli
