#include "moecollab/data/text_table.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "moecollab/util/error.h"
#include "moecollab/util/utf8.h"

namespace moecollab {
namespace {

// A physical line this long is a file without its line breaks (or not text at all), not one example.
constexpr std::size_t kMaxLineBytes = 1u << 20;

// std::getline with the line-length limit and, on the file's first line, the byte order mark removed.
bool read_line(std::istream& in, std::string& line, std::size_t number, const std::string& path) {
  if (!std::getline(in, line)) return false;
  if (line.size() > kMaxLineBytes) {
    throw file_error(path, number,
                     "line of " + std::to_string(line.size()) + " bytes exceeds the limit of " +
                         std::to_string(kMaxLineBytes) + " bytes per line (is the file missing its line breaks?)");
  }
  if (number == 1) strip_utf8_bom(line);
  return true;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_field(const std::string& path, std::size_t line, const char* field, const std::string& value,
                 bool allow_blank = false) {
  std::size_t bad = 0;
  if (!decode_utf8(value, &bad)) {
    throw file_error(
        path, line,
        std::string("field '") + field + "' is not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
  }
  if (!allow_blank && value.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw file_error(path, line, std::string("field '") + field + "' is empty");
  }
}

LabelledText make_record(const std::string& path, std::size_t line, std::string text, std::string label,
                         bool require_label) {
  check_field(path, line, "text", text, /*allow_blank=*/!require_label);  // texts to predict may be empty
  if (require_label || !label.empty()) check_field(path, line, "label", label);
  return {std::move(text), std::move(label), line};
}

std::string json_string_field(const nlohmann::json& obj, const char* field, const std::string& path, std::size_t line) {
  auto it = obj.find(field);
  if (it == obj.end()) throw file_error(path, line, std::string("missing field '") + field + "'");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());  // numeric labels
  throw file_error(path, line, std::string("field '") + field + "' must be a string");
}

std::vector<LabelledText> read_jsonl(std::istream& in, const std::string& path, bool require_label) {
  std::vector<LabelledText> out;
  std::string line;
  std::size_t number = 0;
  while (read_line(in, line, number + 1, path)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::size_t bad = 0;
    if (!decode_utf8(line, &bad)) {
      throw file_error(path, number, "line is not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
    }
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number too large
      throw file_error(path, number, std::string("malformed JSON: ") + e.what());
    }
    if (!obj.is_object()) throw file_error(path, number, "expected a JSON object");
    const bool has_label = obj.contains("label");
    out.push_back(make_record(path, number, json_string_field(obj, "text", path, number),
                              has_label || require_label ? json_string_field(obj, "label", path, number) : "",
                              require_label));
  }
  return out;
}

// One delimited record (RFC 4180 quoting: "a ""quoted"" field"); may span
// several physical lines when a quoted field holds a newline.
bool read_delimited_record(std::istream& in, char delim, std::vector<std::string>& fields, std::size_t& line,
                           const std::string& path) {
  fields.clear();
  std::string raw;
  if (!read_line(in, raw, line + 1, path)) return false;
  ++line;
  const std::size_t start_line = line;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0;; ++i) {
    if (i == raw.size()) {
      if (!quoted) break;
      std::string more;
      if (!read_line(in, more, line + 1, path)) throw file_error(path, start_line, "unterminated quoted field");
      ++line;
      if (raw.size() + more.size() > kMaxLineBytes) {
        throw file_error(path, start_line,
                         "quoted field runs past " + std::to_string(kMaxLineBytes) + " bytes (unterminated quote?)");
      }
      raw += '\n' + more;
    }
    const char c = raw[i];
    if (quoted) {
      if (c == '"' && i + 1 < raw.size() && raw[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"')
        quoted = false;
      else
        field += c;
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == delim) {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c != '\r' || i + 1 != raw.size()) {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return true;
}

std::vector<LabelledText> read_delimited(std::istream& in, const std::string& path, char delim, bool require_label) {
  std::vector<std::string> fields;
  std::size_t line = 0;
  if (!read_delimited_record(in, delim, fields, line, path)) throw file_error(path, 0, "file is empty");
  int text_col = -1, label_col = -1;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (fields[j] == fields[i]) throw file_error(path, 1, "header names the column '" + fields[i] + "' twice");
    }
    if (fields[i] == "text") text_col = static_cast<int>(i);
    if (fields[i] == "label") label_col = static_cast<int>(i);
  }
  if (text_col < 0) throw file_error(path, 1, "header has no 'text' column");
  if (label_col < 0 && require_label) throw file_error(path, 1, "header has no 'label' column");
  const std::size_t width = fields.size();
  std::vector<LabelledText> out;
  while (read_delimited_record(in, delim, fields, line, path)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != width) {
      throw file_error(path, line,
                       "expected " + std::to_string(width) + " columns, found " + std::to_string(fields.size()));
    }
    out.push_back(make_record(path, line, fields[text_col], label_col < 0 ? "" : fields[label_col], require_label));
  }
  return out;
}

}  // namespace

TextFormat text_format_of(const std::string& path) {
  if (ends_with(path, ".jsonl") || ends_with(path, ".json")) return TextFormat::kJsonl;
  if (ends_with(path, ".csv")) return TextFormat::kCsv;
  if (ends_with(path, ".tsv")) return TextFormat::kTsv;
  throw file_error(path, 0, "unknown format (expected .jsonl, .csv or .tsv)");
}

std::vector<LabelledText> parse_labelled_text(std::istream& in, const std::string& path, TextFormat format,
                                              bool require_label) {
  std::vector<LabelledText> out;
  switch (format) {
    case TextFormat::kJsonl:
      out = read_jsonl(in, path, require_label);
      break;
    case TextFormat::kCsv:
      out = read_delimited(in, path, ',', require_label);
      break;
    case TextFormat::kTsv:
      out = read_delimited(in, path, '\t', require_label);
      break;
  }
  if (out.empty()) throw file_error(path, 0, "file holds no examples");
  return out;
}

std::vector<LabelledText> read_labelled_text(const std::string& path, bool require_label) {
  const TextFormat format = text_format_of(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, 0, "cannot open file");
  return parse_labelled_text(in, path, format, require_label);
}

}  // namespace moecollab
