#include "options.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <vector>

#include "moecollab/util/error.h"
#include "run_options.h"

namespace moecollab::cli {
namespace {

bool is_boolean_word(std::string word) {
  std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> words = {"true", "false", "1", "0", "yes", "no", "on", "off"};
  return words.count(word) > 0;
}

// `--name VALUE` -> `--name=VALUE` for boolean options whose next word is a
// boolean, so that it is read as the option's value (boost would otherwise take
// `--name` alone as true and VALUE as a stray word).
std::vector<std::string> join_boolean_values(int argc, char** argv, const po::options_description& all) {
  std::set<std::string> booleans;
  for (const auto& option : all.options()) {
    if (dynamic_cast<const po::typed_value<bool>*>(option->semantic().get())) booleans.insert("--" + option->long_name());
  }
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (booleans.count(word) && i + 1 < argc && is_boolean_word(argv[i + 1])) {
      out.push_back(word + "=" + argv[++i]);
    } else {
      out.push_back(word);
    }
  }
  return out;
}

}  // namespace

po::typed_value<bool>* flag(bool* field, bool default_value) {
  const bool initial = field ? *field : default_value;
  return po::value<bool>(field)
      ->default_value(initial, initial ? "true" : "false")
      ->implicit_value(true, "true")
      ->value_name("true|false");
}

bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& options,
                   po::variables_map& vm, const po::positional_options_description* positional,
                   const po::options_description* hidden) {
  po::options_description common("General");
  common.add_options()
      ("help,h", "print this help and exit")
      ("config,c", po::value<std::string>(),
       "INI file of options (key = value, keys as the long option names without '--'); "
       "options given on the command line replace its values");
  po::options_description shown;
  shown.add(common).add(options);
  po::options_description all;
  all.add(shown);
  if (hidden) all.add(*hidden);
  po::options_description in_config;
  in_config.add(options);
  if (hidden) in_config.add(*hidden);
  // Without positional arguments of its own, a command catches stray words to name them in the error.
  std::vector<std::string> stray;
  po::positional_options_description stray_words;
  stray_words.add("stray-word", -1);
  all.add_options()("stray-word", po::value(&stray)->composing(), "");
  try {
    const auto words = join_boolean_values(argc, argv, all);
    po::command_line_parser parser(words);
    parser.options(all)
        .positional(positional ? *positional : stray_words)
        .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing);
    po::store(parser.run(), vm);
    if (vm.count("stray-word")) {
      const auto& words = vm["stray-word"].as<std::vector<std::string>>();
      throw Error("unexpected word '" + words.front() + "' on the command line (every option starts with --; a value "
                  "follows its option)");
    }
    if (vm.count("help")) {
      std::cout << usage << "\n\n" << shown << "\n";
      return false;
    }
    if (vm.count("config")) {
      const auto path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw Error("config " + path + ": cannot open file");
      try {
        auto parsed = po::parse_config_file(in, in_config, /*allow_unregistered=*/true);
        for (const auto& option : parsed.options) {
          if (option.unregistered && !pipeline_config_keys().count(option.string_key)) {
            throw Error("config " + path + ": unrecognised option '" + option.string_key + "' (no moecollab command takes it)");
          }
        }
        // The command line wins, for repeatable options too: drop the file's values of what it set.
        auto& items = parsed.options;
        items.erase(std::remove_if(items.begin(), items.end(),
                                   [&](const po::option& o) {
                                     return vm.count(o.string_key) && !vm[o.string_key].defaulted();
                                   }),
                    items.end());
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
