#include "moecollab/io/hdf5.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "moecollab/util/error.h"
#include "testing/errors.h"
#include "testing/temp.h"

namespace moecollab {

using testing::error_of;
namespace {

std::string temp_path(const std::string& name) { return testing::temp_path("hdf5_test", name); }

}  // namespace

TEST(Hdf5, TensorsRoundTripEveryDtypeAndShape) {
  const auto path = temp_path("tensors.h5");
  const std::vector<torch::ScalarType> dtypes = {torch::kFloat32, torch::kFloat64, torch::kInt32, torch::kInt64,
                                                 torch::kUInt8};
  const std::vector<std::vector<std::int64_t>> shapes = {{}, {0}, {5}, {2, 3, 4}};
  std::vector<torch::Tensor> written;
  {
    auto file = h5::open_file(path, h5::Mode::kCreate);
    int i = 0;
    for (auto dtype : dtypes) {
      for (const auto& shape : shapes) {
        auto t = (torch::rand(shape, torch::kFloat64) * 200).to(dtype);
        h5::write_tensor(file, "group/t" + std::to_string(i++), t);
        written.push_back(t);
      }
    }
  }
  auto file = h5::open_file(path, h5::Mode::kRead);
  for (std::size_t i = 0; i < written.size(); ++i) {
    const auto t = h5::read_tensor(file, "group/t" + std::to_string(i));
    EXPECT_EQ(t.scalar_type(), written[i].scalar_type()) << i;
    EXPECT_EQ(t.sizes(), written[i].sizes()) << i;
    EXPECT_TRUE(torch::equal(t, written[i])) << i;
  }
  EXPECT_EQ(h5::members(h5::open_group(file, "group")).size(), written.size());
}

TEST(Hdf5, AttributesAndAppendableRows) {
  const auto path = temp_path("attrs.h5");
  {
    auto file = h5::open_file(path, h5::Mode::kCreate);
    h5::write_attribute(file, "name", std::string("héllo"));
    h5::write_attribute(file, "list", std::vector<std::string>{"a", "", "ccc"});
    h5::write_attribute(file, "count", std::int64_t{42});
    h5::write_attribute(file, "ratio", 0.25);
    auto rows = h5::Appendable::create(file, "rows", {2, 3}, torch::kFloat64, 4);
    h5::start_swmr(file);
    for (int r = 0; r < 6; ++r) rows.append(torch::full({2, 3}, static_cast<double>(r), torch::kFloat64));
    EXPECT_EQ(rows.rows(), 6u);
    h5::flush(file);
    // A SWMR reader sees the flushed rows while the writer still has the file open.
    auto reader = h5::open_file(path, h5::Mode::kReadSwmr);
    EXPECT_EQ(h5::read_tensor(reader, "rows").size(0), 6);
  }
  auto file = h5::open_file(path, h5::Mode::kRead);
  EXPECT_EQ(h5::read_string_attribute(file, "name"), "héllo");
  EXPECT_EQ(h5::read_strings_attribute(file, "list"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(h5::read_int_attribute(file, "count"), 42);
  const auto rows = h5::read_tensor(file, "rows");
  ASSERT_EQ(rows.sizes(), (std::vector<std::int64_t>{6, 2, 3}));
  EXPECT_EQ(rows[5][1][2].item<double>(), 5.0);
  EXPECT_NE(error_of([&] { h5::read_string_attribute(file, "nope"); }).find("missing attribute 'nope'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { h5::read_tensor(file, "a/b"); }).find("missing dataset 'a/b'"), std::string::npos);
}

TEST(Hdf5, MissingCorruptAndTruncatedFilesGiveClearErrors) {
  EXPECT_NE(
      error_of([] { h5::open_file("/nonexistent/x.h5", h5::Mode::kRead); }).find("/nonexistent/x.h5: no such file"),
      std::string::npos);
  const auto garbage = temp_path("garbage.h5");
  std::ofstream(garbage) << "this is not HDF5";
  EXPECT_NE(error_of([&] { h5::open_file(garbage, h5::Mode::kRead); }).find(garbage + ": not an HDF5 file"),
            std::string::npos);
  // A file cut in half: the superblock is there, the data is not.
  const auto whole = temp_path("whole.h5");
  {
    auto file = h5::open_file(whole, h5::Mode::kCreate);
    h5::write_tensor(file, "big", torch::rand({256, 256}));
  }
  const auto cut = temp_path("cut.h5");
  std::filesystem::copy_file(whole, cut, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(cut, std::filesystem::file_size(whole) / 2);
  const auto message = error_of([&] {
    auto file = h5::open_file(cut, h5::Mode::kRead);
    h5::read_tensor(file, "big");
  });
  EXPECT_NE(message.find(cut), std::string::npos) << message;
}

}  // namespace moecollab
