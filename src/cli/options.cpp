#include "options.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <vector>

#include "config_file.h"
#include "moecollab/util/error.h"
#include "run_options.h"

namespace moecollab::cli {
namespace {

bool is_boolean_word(std::string word) {
  std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> words = {"true", "false", "1", "0", "yes", "no", "on", "off"};
  return words.count(word) > 0;
}

// Boolean options, spelled out for boost: `--name VALUE` -> `--name=VALUE` when
// VALUE is a boolean word, and `--name` alone -> `--name=true`, so that the word
// after a bare flag (`report --csv LOG.h5`) is never taken as its value.
struct Words {
  std::vector<std::string> words;
  std::map<std::string, std::string> after_flag;  // a word that followed a bare boolean flag -> the flag
};

Words join_boolean_values(int argc, char** argv, const po::options_description& all) {
  std::set<std::string> booleans;
  for (const auto& option : all.options()) {
    if (dynamic_cast<const po::typed_value<bool>*>(option->semantic().get()))
      booleans.insert("--" + option->long_name());
  }
  Words out;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (!booleans.count(word)) {
      out.words.push_back(word);
    } else if (i + 1 < argc && is_boolean_word(argv[i + 1])) {
      out.words.push_back(word + "=" + argv[++i]);
    } else {
      out.words.push_back(word + "=true");  // never let boost take the next word (a file, say) as the value
      if (i + 1 < argc) out.after_flag.emplace(argv[i + 1], word);
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

void store_config_file(const std::string& path, const po::options_description& options, po::variables_map& vm) {
  std::ifstream in(path);
  if (!in) throw Error("config " + path + ": cannot open file");
  store_config_stream(in, path, options, pipeline_config_keys(), vm);
}

bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& options,
                   po::variables_map& vm, const po::positional_options_description* positional,
                   const po::options_description* hidden) {
  po::options_description common("General");
  common.add_options()("help,h", "print this help and exit")(
      "config,c", po::value<std::string>(),
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
    for (int i = 1; i < argc; ++i) refuse_message_placeholders(argv[i], "the command line");
    const auto words = join_boolean_values(argc, argv, all);
    po::command_line_parser parser(words.words);
    parser.options(all)
        .positional(positional ? *positional : stray_words)
        .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing);
    po::store(parser.run(), vm);
    if (vm.count("stray-word")) {
      const auto& first = vm["stray-word"].as<std::vector<std::string>>().front();
      if (words.after_flag.count(first)) {
        throw Error(words.after_flag.at(first) +
                    " takes true/false, 1/0, yes/no or on/off (or nothing, for true), not '" + first + "'");
      }
      throw Error("unexpected word '" + first +
                  "' on the command line (every option starts with --; a value "
                  "follows its option)");
    }
    if (vm.count("help")) {
      std::cout << usage << "\n\n" << shown << "\n";
      return false;
    }
    if (vm.count("config")) store_config_file(vm["config"].as<std::string>(), in_config, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see --help)");
  }
  return true;
}

}  // namespace moecollab::cli
