#include "moecollab/util/utf8.h"

#include <gtest/gtest.h>

namespace moecollab {

TEST(Utf8, RoundTripsEveryLength) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  auto cps = decode_utf8(text);
  ASSERT_TRUE(cps.has_value());
  EXPECT_EQ(*cps, (std::vector<char32_t>{U'a', 0xE9, 0x20AC, 0x1F600}));
  EXPECT_EQ(encode_utf8(*cps), text);
}

TEST(Utf8, RejectsInvalidSequencesWithOffset) {
  std::size_t at = 99;
  EXPECT_FALSE(decode_utf8("ok\xFF", &at));
  EXPECT_EQ(at, 2u);
  EXPECT_FALSE(decode_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(decode_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(decode_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(decode_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

}  // namespace moecollab
