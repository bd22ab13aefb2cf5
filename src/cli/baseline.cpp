// `moecollab baseline --config run.ini [--test]`: the bag-of-words baselines
// per domain (naive Bayes, logistic regression over lower-cased word unigrams
// and bigrams; hyper-parameters chosen on val), on the same splits as the
// mixture, in one process — the number a user tries first.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "moecollab/baseline/domain_baseline.h"
#include "moecollab/util/files.h"
#include "run_options.h"

namespace moecollab::cli {

int baseline_main(int argc, char** argv) {
  DataOptions data;
  bool test = false;
  std::string out;
  po::options_description options("baseline");
  options.add_options()("domain", po::value(&data.domains)->composing()->required(),
                        "a domain, as for train (NAME=PATH names it); repeat per domain")(
      "split-seed", po::value(&data.split_seed)->default_value(data.split_seed), "seed splitting single-file domains")(
      "lower-case", flag(&data.lower_case), "lower-case words (and strip accents) before counting them")(
      "test", flag(&test), "also score the test split (the hyper-parameters are still chosen on val)")(
      "out,o", po::value(&out), "also write the results as JSON here");
  po::variables_map vm;
  if (!parse_options(
          argc, argv,
          "usage: moecollab baseline --domain DIR [--domain DIR ...] [--config run.ini] [--test] [--out F]\n"
          "Bag-of-words baselines per domain on the mixture's splits: multinomial naive Bayes and logistic\n"
          "regression over word unigrams + bigrams (BERT's basic word split), each with its hyper-parameter\n"
          "(NB smoothing alpha, LR l2) chosen by validation accuracy. Deterministic: no seed.",
          options, vm)) {
    return 0;
  }
  nlohmann::ordered_json j;
  j["split"] = test ? "test" : "val";
  j["domains"] = nlohmann::ordered_json::array();
  std::printf("baseline: bag of words (word unigrams + bigrams%s), hyper-parameters chosen on val\n",
              data.lower_case ? ", lower-cased" : "");
  for (const auto& domain : load_domains(data)) {
    for (const auto& r : bag_of_words_baselines(domain, data.lower_case)) {
      const auto& shown = test ? r.test : r.val;
      std::printf("  %-10s %-20s %-11s %s acc %.3f F1 %.3f\n", r.domain.c_str(), r.model.c_str(), r.chosen.c_str(),
                  test ? "test" : "val", shown.accuracy, shown.macro_f1);
      nlohmann::ordered_json row = {{"domain", r.domain},
                                    {"model", r.model},
                                    {"chosen", r.chosen},
                                    {"val_accuracy", r.val.accuracy},
                                    {"val_macro_f1", r.val.macro_f1}};
      if (test) {
        row["test_accuracy"] = r.test.accuracy;
        row["test_macro_f1"] = r.test.macro_f1;
      }
      j["domains"].push_back(row);
    }
  }
  std::fflush(stdout);
  if (!out.empty()) write_file_atomically(out, [&](std::ostream& o) { o << j.dump(2) << "\n"; });
  return 0;
}

}  // namespace moecollab::cli
