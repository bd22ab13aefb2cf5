// UTF-8 decoding and encoding, used by the dataset reader (to reject invalid
// text with a precise message) and by the tokenizer (which works on code points).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moecollab {

// Code points of `text`, or std::nullopt if it is not valid UTF-8 (overlong
// forms, surrogates and values above U+10FFFF are invalid). On failure
// `bad_offset`, when given, receives the byte offset of the first bad byte.
std::optional<std::vector<char32_t>> decode_utf8(std::string_view text, std::size_t* bad_offset = nullptr);

void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(const std::vector<char32_t>& cps);

// Removes a UTF-8 byte order mark (EF BB BF) from the start of `line`, as
// spreadsheet programs write at the head of a file; true when there was one.
bool strip_utf8_bom(std::string& line);

}  // namespace moecollab
