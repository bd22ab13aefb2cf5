// The INI config reader with options of every kind a command has (repeatable
// strings, integers, reals, booleans, plain strings); the first byte says
// which options the "command line" already set.
#include <sstream>

#include "../../src/cli/config_file.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  namespace po = boost::program_options;
  if (size == 0) return 0;
  po::options_description options;
  options.add_options()("domain", po::value<std::vector<std::string>>()->composing(), "")(
      "rounds", po::value<int>()->default_value(8), "")("lambda1", po::value<double>()->default_value(0.01), "")(
      "joint", po::value<bool>()->default_value(false)->implicit_value(true), "")(
      "exchange", po::value<std::string>()->default_value("features"), "")("top-k", po::value<std::int64_t>(), "");
  po::variables_map vm;
  if (data[0] & 1) {
    const char* argv[] = {"fuzz", "--rounds", "3", "--domain", "data/quotes"};
    po::store(po::parse_command_line(5, argv, options), vm);
  }
  std::istringstream in(fuzz::as_string(data + 1, size - 1));
  fuzz::refused_or_parsed([&] {
    cli::store_config_stream(in, "fuzz.ini", options, {"max-size", "pretrain-steps"}, vm);
    try {
      po::notify(vm);
    } catch (const po::error& e) {
      throw Error(e.what());
    }
    if ((data[0] & 1) && vm["rounds"].as<int>() != 3) fuzz::fail("the config file overrode the command line");
  });
  return 0;
}
