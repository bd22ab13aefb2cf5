#include "moecollab/model/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "testing/errors.h"
#include "testing/temp.h"

namespace moecollab {

using testing::error_of;

namespace {

std::string temp_path(const std::string& name) { return testing::temp_path("safetensors_test", name); }

// A file with an arbitrary header and buffer, to test the reader on what others write.
void write_raw(const std::string& path, const std::string& header, const std::string& buffer) {
  std::ofstream out(path, std::ios::binary);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
  out << header << buffer;
}

}  // namespace

TEST(Safetensors, RoundTrip) {
  const auto path = temp_path("round.safetensors");
  NamedTensors t = {{"a.weight", torch::randn({3, 4})},
                    {"b", torch::arange(5, torch::kInt64)},
                    {"c", torch::randn({2}, torch::kFloat64)},
                    {"empty", torch::zeros({0, 3})}};
  write_safetensors(path, t, {{"format", "pt"}});
  const auto back = read_safetensors(path);
  ASSERT_EQ(back.size(), t.size());
  EXPECT_TRUE(torch::equal(back.at("a.weight"), t.at("a.weight")));
  EXPECT_TRUE(torch::equal(back.at("b"), t.at("b")));
  EXPECT_EQ(back.at("c").scalar_type(), torch::kFloat32);  // reals come back as float32
  EXPECT_TRUE(torch::allclose(back.at("c"), t.at("c").to(torch::kFloat32)));
  EXPECT_EQ(back.at("empty").sizes(), (std::vector<std::int64_t>{0, 3}));
  auto names = safetensors_names(path);  // the header only; no __metadata__
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.weight", "b", "c", "empty"}));
}

TEST(Safetensors, HalfAndBfloat16BecomeFloat32) {
  const auto path = temp_path("half.safetensors");
  // 1.5 in F16 is 0x3E00; -2.0 in BF16 is 0xC000 (little-endian bytes).
  write_raw(
      path,
      R"({"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}})",
      std::string("\x00\x3E\x00\xC0", 4));
  const auto t = read_safetensors(path);
  EXPECT_EQ(t.at("h").item<float>(), 1.5f);
  EXPECT_EQ(t.at("b").item<float>(), -2.0f);
}

TEST(Safetensors, BadFilesNameTheFileAndTensor) {
  const auto path = temp_path("bad.safetensors");
  write_raw(path, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0'));
  EXPECT_NE(error_of([&] {
              read_safetensors(path);
            }).find(path + ": truncated: its tensors need a buffer of 16 bytes, the file holds 8"),
            std::string::npos);
  write_raw(path, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}})", std::string(16, '\0'));
  EXPECT_NE(error_of([&] {
              read_safetensors(path);
            }).find(path + ": tensor 'w': data_offsets [0, 8) hold 8 bytes, its shape and dtype need 16"),
            std::string::npos);
  write_raw(
      path,
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(16, '\0'));
  EXPECT_NE(error_of([&] { read_safetensors(path); }).find(path + ": tensors 'a' and 'b' overlap in the buffer"),
            std::string::npos);
  write_raw(path, R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0'));
  EXPECT_NE(error_of([&] { read_safetensors(path); }).find("tensor 'w': negative dimension -1"), std::string::npos);
  write_raw(path, R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", std::string(1, '\0'));
  EXPECT_NE(error_of([&] { read_safetensors(path); }).find("unsupported dtype Q4"), std::string::npos);
  write_raw(path, "{not json", "");
  EXPECT_NE(error_of([&] { read_safetensors(path); }).find(path + ": malformed safetensors header"), std::string::npos);
  { std::ofstream(path, std::ios::binary) << std::string("\xFF\xFF\xFF\xFF\xFF\xFF\x00\x00", 8); }
  EXPECT_NE(error_of([&] { read_safetensors(path); }).find("exceeds the file"), std::string::npos);
  { std::ofstream(path, std::ios::binary) << "\x05"; }
  EXPECT_NE(error_of([&] { read_safetensors(path); }).find("too short for a safetensors header"), std::string::npos);
}

}  // namespace moecollab
