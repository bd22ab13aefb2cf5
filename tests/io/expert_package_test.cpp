// Expert packages (round trip, compatibility refusals, versions), the registry
// index, and carrying a gate over to a new set of experts.
#include "moecollab/io/expert_package.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "moecollab/io/contribution.h"
#include "moecollab/io/registry.h"
#include "testing/errors.h"
#include "testing/temp.h"

namespace moecollab {
namespace {

ExpertPackage make_package(const std::string& version = "1.0.0") {
  ExpertPackage p;
  auto& m = p.manifest;
  m.domain = "legal";
  m.version = version;
  m.contributor = "Ada <ada@example.org>";
  m.labels = {"contract", "tort", "criminal", "family"};
  m.model.adapter = 3;
  m.model.encoder.hidden = 8;
  m.model.domains = {m.domain};
  m.model.label_counts = {4};
  m.encoder_fingerprint = "00000000000000e1";
  m.vocabulary_fingerprint = "00000000000000f2";
  m.metrics = {{"val_accuracy", 0.75}, {"steps", 100}};
  torch::manual_seed(5);
  for (const auto& [name, shape] : expected_expert_shapes(m)) p.tensors[name] = torch::randn(shape);
  return p;
}

CompatibilityTarget target() { return {"model M", "00000000000000e1", "00000000000000f2", 8, 3}; }

std::string saved(const std::string& name, const ExpertPackage& p) {
  const auto path = testing::temp_path("expert_package", name);
  save_expert_package(path, p);
  return path;
}

std::string problems_text(const ExpertPackage& p, const CompatibilityTarget& t) {
  std::string s;
  for (const auto& line : compatibility_problems(p, "PKG", t)) s += line + "\n";
  return s;
}

TEST(ExpertPackage, RoundTripKeepsManifestTensorsAndHash) {
  const auto path = saved("round_trip.h5", make_package());
  const auto p = load_expert_package(path);
  const auto original = make_package();
  EXPECT_EQ(p.manifest.domain, "legal");
  EXPECT_EQ(p.manifest.version, "1.0.0");
  EXPECT_EQ(p.manifest.contributor, original.manifest.contributor);
  EXPECT_EQ(p.manifest.labels, original.manifest.labels);
  EXPECT_EQ(p.manifest.model.adapter, 3);
  EXPECT_EQ(p.manifest.model.encoder.hidden, 8);
  EXPECT_EQ(field_texts(p.manifest.model), field_texts(original.manifest.model));
  EXPECT_DOUBLE_EQ(p.manifest.metrics.at("val_accuracy"), 0.75);
  EXPECT_FALSE(p.manifest.created.empty());
  ASSERT_EQ(p.tensors.size(), 6u);
  for (const auto& [name, t] : original.tensors) EXPECT_TRUE(torch::equal(p.tensors.at(name), t)) << name;
  EXPECT_EQ(p.manifest.content_hash, package_content_hash(p));
  EXPECT_EQ(problems_text(p, target()), "");
}

TEST(ExpertPackage, RefusesAModelDescriptionOfAnotherExpert) {
  auto p = make_package();
  p.manifest.model.label_counts = {5};
  const auto path = saved("other_model.h5", p);
  EXPECT_NE(testing::error_of([&] {
              load_expert_package(path);
            }).find(path + ": /model describes the experts legal, not this package's one, legal with 4 labels"),
            std::string::npos);
}

TEST(ExpertPackage, CheckRefusesEachMismatchNamingFieldAndValues) {
  const auto good = load_expert_package(saved("good.h5", make_package()));
  auto t = target();
  t.encoder_fingerprint = "00000000000000aa";
  EXPECT_NE(
      problems_text(good, t).find("encoder_fingerprint: package has 00000000000000e1, model M has 00000000000000aa"),
      std::string::npos);
  t = target();
  t.hidden = 16;
  EXPECT_NE(problems_text(good, t).find("hidden: package has 8, model M has 16"), std::string::npos);
  t = target();
  t.vocabulary_fingerprint = "00000000000000bb";
  EXPECT_NE(problems_text(good, t).find("vocabulary_fingerprint (tokenizer): package has 00000000000000f2"),
            std::string::npos);

  auto missing = make_package();
  missing.tensors.erase("parameters/classifier.bias");
  EXPECT_NE(problems_text(load_expert_package(saved("missing.h5", missing)), target())
                .find("tensor parameters/classifier.bias: missing (expected shape [4])"),
            std::string::npos);

  auto misshapen = make_package();
  misshapen.tensors["parameters/classifier.weight"] = torch::zeros({3, 8});
  EXPECT_NE(problems_text(load_expert_package(saved("shape.h5", misshapen)), target())
                .find("tensor parameters/classifier.weight: shape [3, 8], the manifest (adapter 3, hidden 8, 4 labels) "
                      "implies [4, 8]"),
            std::string::npos);

  auto corrupt = load_expert_package(saved("corrupt.h5", make_package()));
  corrupt.tensors["parameters/up_project.weight"][0][0] += 1.0f;  // changed after packaging
  EXPECT_NE(problems_text(corrupt, target()).find("content_hash: the manifest says"), std::string::npos);
}

TEST(ExpertPackage, VersionsAreSemantic) {
  EXPECT_GT(compare_versions("1.10", "1.9"), 0);
  EXPECT_EQ(compare_versions("2.1", "2.1.0"), 0);
  EXPECT_LT(compare_versions("1.0.1", "1.1"), 0);
  check_version_text("1.0");
  check_version_text("10.2.33");
  for (const char* bad : {"1", "v1.0", "1.0.", "1..0", "1.0.0.0", "1.x"}) {
    EXPECT_NE(testing::error_of([&] { check_version_text(bad); }).find("is not a semantic version"), std::string::npos)
        << bad;
  }
  EXPECT_NE(testing::error_of([] {
              save_expert_package(testing::temp_path("expert_package", "v.h5"), make_package("one"));
            }).find("'one' is not a semantic version"),
            std::string::npos);
}

TEST(Registry, VersionsSideBySideLatestPinnedAndRemoved) {
  const auto dir = testing::temp_path("expert_package", "registry");
  std::filesystem::remove_all(dir);
  EXPECT_NE(testing::error_of([&] { Registry r(dir); }).find("not an expert registry"), std::string::npos);
  {
    Registry r(dir, true);
    r.add(saved("v1.h5", make_package("1.0.0")));
    r.add(saved("v1_10.h5", make_package("1.10.0")));
    r.add(saved("v1_9.h5", make_package("1.9.0")));
    EXPECT_NE(testing::error_of([&] {
                r.add(saved("again.h5", make_package("1.9.0")));
              }).find("legal@1.9.0 is already registered"),
              std::string::npos);
  }
  Registry r(dir);  // reloaded from index.json
  ASSERT_EQ(r.entries().size(), 3u);
  EXPECT_EQ(r.find("legal").version, "1.10.0");
  EXPECT_EQ(r.find("legal@1.0.0").version, "1.0.0");
  EXPECT_TRUE(std::filesystem::exists(r.path_of(r.find("legal@1.0.0"))));
  EXPECT_NE(testing::error_of([&] { r.find("legal@2.0.0"); }).find("versions of 'legal': 1.0.0, 1.9.0, 1.10.0"),
            std::string::npos);
  r.remove("legal@1.9.0");
  EXPECT_EQ(Registry(dir).entries().size(), 2u);
  EXPECT_NE(testing::error_of([&] { r.remove("legal"); }).find("give DOMAIN@VERSION"), std::string::npos);
}

TEST(Registry, IndexCarriesItsFormatVersionAndAnotherIsRefused) {
  const auto dir = testing::temp_path("expert_package", "registry_version");
  std::filesystem::remove_all(dir);
  Registry(dir, true).add(saved("v1.h5", make_package("1.0.0")));
  const auto index = dir + "/index.json";
  std::stringstream text;
  text << std::ifstream(index).rdbuf();
  const auto written = text.str();
  ASSERT_NE(written.find("\"format_version\": 1"), std::string::npos) << written;
  // An index from before the version was stored reads as version 1; version 2 is refused, naming the file.
  const auto with = [&](const std::string& from, const std::string& to) {
    auto s = written;
    s.replace(s.find(from), from.size(), to);
    std::ofstream(index) << s;
  };
  with("\"format_version\": 1,", "");
  EXPECT_EQ(Registry(dir).entries().size(), 1u);
  with("\"format_version\": 1", "\"format_version\": 2");
  EXPECT_NE(testing::error_of([&] {
              Registry r(dir);
            }).find(index + ": registry index format version 2, this build reads version 1"),
            std::string::npos);
}

TEST(Contribution, GateKeepsRowsOfKeptExpertsAndAddsSmallRows) {
  NamedTensors base{{"parameters/gate.weight", torch::arange(12, torch::kFloat32).reshape({3, 4})},
                    {"parameters/gate.bias", torch::tensor({1.0f, 2.0f, 6.0f})},
                    {"adam/step/gate.weight", torch::tensor(7)}};
  const auto gate = carry_gate(base, {"a", "b", "c"}, {"a", "c", "d"}, 1);
  EXPECT_EQ(gate.count("adam/step/gate.weight"), 0u);  // fresh optimizer
  const auto& w = gate.at("parameters/gate.weight");
  const auto& b = gate.at("parameters/gate.bias");
  ASSERT_EQ(w.sizes(), (std::vector<std::int64_t>{3, 4}));
  EXPECT_TRUE(torch::equal(w[0], base["parameters/gate.weight"][0]));
  EXPECT_TRUE(torch::equal(w[1], base["parameters/gate.weight"][2]));
  EXPECT_LT(w[2].abs().max().item<float>(), 0.01f);
  EXPECT_FLOAT_EQ(b[2].item<float>(), (1.0f + 6.0f) / 2);
  EXPECT_TRUE(torch::equal(carry_gate(base, {"a", "b", "c"}, {"a", "c", "d"}, 1).at("parameters/gate.weight"), w));
  EXPECT_NE(testing::error_of([&] {
              carry_gate(base, {"a", "b", "c"}, {"x"}, 1);
            }).find("keeps none"),
            std::string::npos);

  ExpertState expert{"legal", {"contract", "tort", "criminal", "family"}, {}, 3, 9};
  install_package(expert, make_package(), "PKG");
  EXPECT_EQ(expert.tensors.size(), 6u);
  EXPECT_EQ(expert.sampler_cursor, 0u);
  ExpertState other{"news", {"a"}, {}, 0, 0};
  EXPECT_NE(testing::error_of([&] {
              install_package(other, make_package(), "PKG");
            }).find("PKG: domain: package is for 'legal', its rank's data is domain 'news'"),
            std::string::npos);
}

}  // namespace
}  // namespace moecollab
