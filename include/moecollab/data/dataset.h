// A domain's labelled data: label names mapped to ids in a stable, saved
// order, and train/val/test splits. A domain lives in a directory holding
// `train`, `val` and `test` files (.jsonl/.csv/.tsv) and optionally
// `labels.txt` (one label per line: that order defines the ids); or in one
// file that `split_by_hash` divides by a seeded hash of each example's text,
// which is stable across runs and machines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moecollab/data/text_table.h"

namespace moecollab {

struct Example {
  std::string text;
  std::int64_t label = 0;
};

struct LabelSet {
  std::vector<std::string> names;  // id -> name

  std::size_t size() const { return names.size(); }
  // Id of `name`, or -1 when it is not a known label.
  std::int64_t find(const std::string& name) const;
};

struct Domain {
  std::string name;
  LabelSet labels;
  std::vector<Example> train, val, test;
  // More in-domain text without labels (DIR/unlabelled.txt, one per line);
  // only masked-LM pre-training reads it. Empty when the file is absent.
  std::vector<std::string> unlabelled;
};

enum class Split { kTrain, kVal, kTest };

struct SplitFractions {
  double val = 0.1;
  double test = 0.1;
};

// Which split a text falls in: a function of (seed, text) only.
Split split_of(const std::string& text, std::uint64_t seed, SplitFractions fractions);

// Reads `labels.txt` (REQUIRES: non-empty, no duplicates, no blank lines).
LabelSet read_label_file(const std::string& path);

// Labels sorted by name: the stable order used when no labels.txt is given.
LabelSet labels_from_examples(const std::vector<LabelledText>& rows);

// Maps label names to ids; a name outside `labels` is an Error naming file and line.
std::vector<Example> to_examples(const std::vector<LabelledText>& rows, const LabelSet& labels,
                                 const std::string& path);

// Lines of a UTF-8 text file, blank ones skipped; an invalid line is an Error
// naming the file and line.
std::vector<std::string> read_text_lines(const std::string& path);

// Loads DIR/{train,val,test}.{jsonl,csv,tsv}, DIR/labels.txt (if present;
// otherwise labels come from the train split) and DIR/unlabelled.txt (if present). The domain name is the
// directory's last component.
Domain load_domain_dir(const std::string& dir);

// One file divided into splits by `split_of`; labels from the whole file, sorted.
Domain split_by_hash(const std::string& name, const std::string& path, std::uint64_t seed,
                     SplitFractions fractions = {});

// What a `--domain` argument names: "PATH", a domain named after the
// directory's last component (data/quotes -> quotes) or the file's stem
// (mine.jsonl -> mine); or "NAME=PATH", named NAME. A name is non-empty and has
// no '/', '=', ',', '@' or white space (it appears in DOMAIN@VERSION lists).
struct DomainSpec {
  std::string name;
  std::string path;
};
// Throws Error for an empty path or a bad name, naming the argument.
DomainSpec parse_domain_spec(const std::string& spec);
// The name `path` gives a domain when no NAME= is given.
std::string default_domain_name(const std::string& path);
// Throws Error naming `what` when `name` is not a valid domain name.
void check_domain_name(const std::string& name, const std::string& what);
// Throws Error when two `--domain` arguments name the same domain: "two domains are both
// named 'X' (--domain A for SLOT 0, --domain B for SLOT 1); name them apart with --domain
// NAME=PATH" (SLOT: "rank" or "expert"). Also throws for an argument parse_domain_spec refuses.
void check_distinct_domain_names(const std::vector<std::string>& specs, const std::string& slot);

// Loads a `--domain` argument (see DomainSpec): a directory with
// load_domain_dir, a file with split_by_hash; the domain gets the spec's name.
Domain load_domain(const std::string& spec, std::uint64_t split_seed = 0);

}  // namespace moecollab
