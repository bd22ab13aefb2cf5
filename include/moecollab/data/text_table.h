// Reading labelled text files: JSONL ({"text": ..., "label": ...} per line)
// and CSV/TSV with a header row naming `text` and `label` columns. The format
// is chosen by the file extension (.jsonl/.json, .csv, .tsv). Every problem is
// reported as an Error naming the file and line.
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace moecollab {

struct LabelledText {
  std::string text;
  std::string label;
  std::size_t line = 0;  // 1-based line in the source file, for messages
};

enum class TextFormat { kJsonl, kCsv, kTsv };

// The format a file's extension names; throws Error for any other extension.
TextFormat text_format_of(const std::string& path);

// The records of `in`, read as `format`; `path` names the source in messages.
// Also: a UTF-8 byte order mark at the start is skipped, CRLF line ends are
// taken as LF, a header naming a column twice and a line over 1 MiB are errors.
std::vector<LabelledText> parse_labelled_text(std::istream& in, const std::string& path, TextFormat format,
                                              bool require_label = true);

// REQUIRES: path ends in .jsonl, .json, .csv or .tsv.
// Throws Error for: unreadable or empty file, malformed JSON/CSV, a missing
// text or label field, an empty text or label, invalid UTF-8.
// With `require_label` false (texts to predict) a missing label is allowed (it
// is then empty), and so is an empty text: `predict` classifies it and says so.
std::vector<LabelledText> read_labelled_text(const std::string& path, bool require_label = true);

}  // namespace moecollab
