#include "moecollab/data/dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "moecollab/util/error.h"

namespace moecollab {
namespace fs = std::filesystem;

namespace {

fs::path make_domain(const std::string& name, const std::string& test_jsonl, bool with_labels) {
  const auto dir = fs::temp_directory_path() / "moecollab_dataset_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "train.jsonl")
      << "{\"text\": \"a b\", \"label\": \"zeta\"}\n{\"text\": \"c\", \"label\": \"alpha\"}\n";
  std::ofstream(dir / "val.csv") << "text,label\nd,alpha\n";
  std::ofstream(dir / "test.jsonl") << test_jsonl;
  if (with_labels) std::ofstream(dir / "labels.txt") << "zeta\nalpha\nmid\n";
  return dir;
}

}  // namespace

TEST(Dataset, LoadsDirectoryWithSavedLabelOrder) {
  const auto dir = make_domain("sports", "{\"text\": \"e\", \"label\": \"mid\"}\n", true);
  const Domain d = load_domain(dir.string());
  EXPECT_EQ(d.name, "sports");
  EXPECT_EQ(d.labels.names, (std::vector<std::string>{"zeta", "alpha", "mid"}));
  ASSERT_EQ(d.train.size(), 2u);
  EXPECT_EQ(d.train[0].label, 0);
  EXPECT_EQ(d.train[1].label, 1);
  EXPECT_EQ(d.val[0].label, 1);
  EXPECT_EQ(d.test[0].label, 2);
}

TEST(Dataset, LabelsDefaultToSortedTrainLabels) {
  const auto dir = make_domain("news", "{\"text\": \"e\", \"label\": \"zeta\"}\n", false);
  const Domain d = load_domain(dir.string());
  EXPECT_EQ(d.labels.names, (std::vector<std::string>{"alpha", "zeta"}));
  EXPECT_EQ(d.train[0].label, 1);
}

TEST(Dataset, UnknownLabelInTestSplitNamesFileAndLine) {
  const auto dir =
      make_domain("law", "{\"text\": \"e\", \"label\": \"zeta\"}\n{\"text\": \"f\", \"label\": \"omega\"}\n", false);
  try {
    load_domain(dir.string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((dir / "test.jsonl").string() + ":2: unknown label 'omega'"), std::string::npos) << msg;
  }
}

TEST(Dataset, HashSplitIsStableAndRoughlyProportional) {
  std::size_t counts[3] = {0, 0, 0};
  for (int i = 0; i < 10000; ++i) {
    const std::string text = "example number " + std::to_string(i);
    const Split s = split_of(text, 7, {});
    EXPECT_EQ(s, split_of(text, 7, {}));
    ++counts[static_cast<int>(s)];
  }
  EXPECT_NEAR(counts[0] / 10000.0, 0.8, 0.02);
  EXPECT_NEAR(counts[1] / 10000.0, 0.1, 0.02);
  EXPECT_NEAR(counts[2] / 10000.0, 0.1, 0.02);
}

TEST(Dataset, SingleFileIsSplitByHash) {
  const auto dir = fs::temp_directory_path() / "moecollab_dataset_test";
  fs::create_directories(dir);
  const auto path = (dir / "reviews.jsonl").string();
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i)
      out << "{\"text\": \"review " << i << "\", \"label\": \"" << (i % 2 ? "pos" : "neg") << "\"}\n";
  }
  const Domain a = load_domain(path, 3), b = load_domain(path, 3), c = load_domain(path, 4);
  EXPECT_EQ(a.name, "reviews");
  EXPECT_EQ(a.train.size() + a.val.size() + a.test.size(), 200u);
  ASSERT_GE(a.val.size(), 5u);
  ASSERT_GE(c.val.size(), 5u);
  EXPECT_EQ(a.val.size(), b.val.size());
  EXPECT_EQ(a.val[0].text, b.val[0].text);
  EXPECT_NE(a.val[0].text + a.val[1].text, c.val[0].text + c.val[1].text);
}

TEST(Dataset, LabelFileErrors) {
  const auto dir = fs::temp_directory_path() / "moecollab_dataset_test";
  fs::create_directories(dir);
  const auto path = (dir / "labels_dup.txt").string();
  std::ofstream(path) << "a\nb\na\n";
  EXPECT_THROW(read_label_file(path), Error);
  try {
    read_label_file(path);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3: duplicate label 'a'"), std::string::npos) << e.what();
  }
}

}  // namespace moecollab
