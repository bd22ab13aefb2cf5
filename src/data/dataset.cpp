#include "moecollab/data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "moecollab/util/error.h"
#include "moecollab/util/hash.h"
#include "moecollab/util/utf8.h"

namespace moecollab {
namespace fs = std::filesystem;

std::int64_t LabelSet::find(const std::string& name) const {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<std::int64_t>(it - names.begin());
}

Split split_of(const std::string& text, std::uint64_t seed, SplitFractions fractions) {
  const std::uint64_t h = mix64(fnv1a(text, mix64(seed)));
  const double u = static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);  // uniform [0, 1)
  if (u < fractions.val) return Split::kVal;
  if (u < fractions.val + fractions.test) return Split::kTest;
  return Split::kTrain;
}

LabelSet read_label_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw file_error(path, 0, "cannot open label file");
  LabelSet labels;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1) strip_utf8_bom(line);
    if (line.empty()) throw file_error(path, number, "blank label");
    if (labels.find(line) >= 0) throw file_error(path, number, "duplicate label '" + line + "'");
    labels.names.push_back(line);
  }
  if (labels.names.empty()) throw file_error(path, 0, "label file is empty");
  return labels;
}

LabelSet labels_from_examples(const std::vector<LabelledText>& rows) {
  std::set<std::string> names;
  for (const auto& r : rows) names.insert(r.label);
  return LabelSet{{names.begin(), names.end()}};
}

std::vector<Example> to_examples(const std::vector<LabelledText>& rows, const LabelSet& labels,
                                 const std::string& path) {
  std::vector<Example> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    const std::int64_t id = labels.find(r.label);
    if (id < 0)
      throw file_error(
          path, r.line,
          "unknown label '" + r.label + "' (not among the domain's " + std::to_string(labels.size()) + " labels)");
    out.push_back({r.text, id});
  }
  return out;
}

std::vector<std::string> read_text_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, 0, "cannot open");
  std::vector<std::string> texts;
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1) strip_utf8_bom(line);
    std::size_t bad = 0;
    if (!decode_utf8(line, &bad)) {
      throw file_error(path, number, "line is not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
    }
    if (!line.empty()) texts.push_back(std::move(line));
  }
  return texts;
}

namespace {

std::string find_split_file(const fs::path& dir, const std::string& split) {
  for (const char* ext : {".jsonl", ".csv", ".tsv"}) {
    const fs::path p = dir / (split + ext);
    if (fs::exists(p)) return p.string();
  }
  throw file_error(dir.string(), 0, "no " + split + ".jsonl, " + split + ".csv or " + split + ".tsv");
}

}  // namespace

Domain load_domain_dir(const std::string& dir_path) {
  const fs::path dir(dir_path);
  if (!fs::is_directory(dir)) throw file_error(dir_path, 0, "not a directory");
  Domain d;
  d.name = default_domain_name(dir_path);
  const std::string train_path = find_split_file(dir, "train");
  const auto train_rows = read_labelled_text(train_path);
  const fs::path label_path = dir / "labels.txt";
  d.labels = fs::exists(label_path) ? read_label_file(label_path.string()) : labels_from_examples(train_rows);
  d.train = to_examples(train_rows, d.labels, train_path);
  const std::string val_path = find_split_file(dir, "val");
  d.val = to_examples(read_labelled_text(val_path), d.labels, val_path);
  const std::string test_path = find_split_file(dir, "test");
  d.test = to_examples(read_labelled_text(test_path), d.labels, test_path);
  const fs::path unlabelled_path = dir / "unlabelled.txt";
  if (fs::exists(unlabelled_path)) d.unlabelled = read_text_lines(unlabelled_path.string());
  return d;
}

Domain split_by_hash(const std::string& name, const std::string& path, std::uint64_t seed, SplitFractions fractions) {
  const auto rows = read_labelled_text(path);
  Domain d;
  d.name = name;
  d.labels = labels_from_examples(rows);
  for (auto& ex : to_examples(rows, d.labels, path)) {
    switch (split_of(ex.text, seed, fractions)) {
      case Split::kTrain:
        d.train.push_back(std::move(ex));
        break;
      case Split::kVal:
        d.val.push_back(std::move(ex));
        break;
      case Split::kTest:
        d.test.push_back(std::move(ex));
        break;
    }
  }
  if (d.train.empty()) throw file_error(path, 0, "no example fell in the train split");
  return d;
}

// A classifier needs two classes in its training split.
static Domain require_two_classes(Domain d, const std::string& path) {
  std::set<std::int64_t> seen;
  for (const auto& ex : d.train) seen.insert(ex.label);
  if (seen.size() < 2) {
    throw file_error(
        path, 0,
        "domain '" + d.name + "' has one class in its training split ('" +
            (d.train.empty() ? std::string("none") : d.labels.names[static_cast<std::size_t>(d.train.front().label)]) +
            "'); a classifier needs at least two");
  }
  return d;
}

std::string default_domain_name(const std::string& path) {
  const auto normal = fs::path(path).lexically_normal();
  if (fs::is_directory(path)) {
    const auto name = normal.filename().string();
    return name.empty() ? normal.parent_path().filename().string() : name;
  }
  return normal.stem().string();
}

void check_domain_name(const std::string& name, const std::string& what) {
  const bool bad =
      name.empty() || name == "." || name == ".." || name.find_first_of("/=,@ \t\n\r") != std::string::npos;
  if (bad) {
    throw Error(what + ": '" + name + "' is not a valid domain name (non-empty; no '/', '=', ',', '@' or spaces)");
  }
}

void check_distinct_domain_names(const std::vector<std::string>& specs, const std::string& slot) {
  std::vector<std::string> names;
  for (const auto& spec : specs) names.push_back(parse_domain_spec(spec).name);
  for (std::size_t j = 0; j < names.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (names[i] != names[j]) continue;
      throw Error("two domains are both named '" + names[i] + "' (--domain " + specs[i] + " for " + slot + " " +
                  std::to_string(i) + ", --domain " + specs[j] + " for " + slot + " " + std::to_string(j) +
                  "); name them apart with --domain NAME=PATH");
    }
  }
}

DomainSpec parse_domain_spec(const std::string& spec) {
  DomainSpec d{"", spec};
  const auto eq = spec.find('=');
  // A path that exists as given wins over NAME=PATH (a directory may have '=' in its name).
  if (eq != std::string::npos && !fs::exists(spec)) {
    d.name = spec.substr(0, eq);
    d.path = spec.substr(eq + 1);
    check_domain_name(d.name, "--domain " + spec);
  } else {
    d.name = default_domain_name(spec);
    check_domain_name(d.name, "--domain " + spec + " (the name comes from the path; give NAME=PATH)");
  }
  if (d.path.empty()) throw Error("--domain " + spec + ": no path");
  return d;
}

Domain load_domain(const std::string& spec, std::uint64_t split_seed) {
  const auto [name, path] = parse_domain_spec(spec);
  Domain d;
  if (fs::is_directory(path)) {
    d = load_domain_dir(path);
  } else {
    if (!fs::exists(path)) throw file_error(path, 0, "no such file or directory");
    d = split_by_hash(name, path, split_seed);
  }
  d.name = name;
  return require_two_classes(std::move(d), path);
}

}  // namespace moecollab
