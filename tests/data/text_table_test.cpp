#include "moecollab/data/text_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "moecollab/util/error.h"

namespace moecollab {
namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  const auto dir = std::filesystem::temp_directory_path() / "moecollab_text_table_test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// The message of the Error that reading `path` throws.
std::string read_error(const std::string& path) {
  try {
    read_labelled_text(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(TextTable, ReadsJsonl) {
  const auto path = write_temp(
      "good.jsonl", "{\"text\": \"h\\u00e9llo\", \"label\": \"greet\"}\n\n{\"text\": \"bye\", \"label\": 3}\n");
  const auto rows = read_labelled_text(path);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "h\xC3\xA9llo");
  EXPECT_EQ(rows[0].label, "greet");
  EXPECT_EQ(rows[1].label, "3");
  EXPECT_EQ(rows[1].line, 3u);
}

TEST(TextTable, ReadsCsvWithQuotesAndAnyColumnOrder) {
  const auto path = write_temp("good.csv", "id,label,text\n1,a,\"x, \"\"y\"\"\"\n2,b,\"two\nlines\"\n3,c,plain\n");
  const auto rows = read_labelled_text(path);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].text, "x, \"y\"");
  EXPECT_EQ(rows[1].text, "two\nlines");
  EXPECT_EQ(rows[2].label, "c");
  EXPECT_EQ(rows[2].line, 5u);
}

TEST(TextTable, ReadsTsv) {
  const auto rows = read_labelled_text(write_temp("good.tsv", "text\tlabel\r\nsome words\tpos\r\n"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text, "some words");
  EXPECT_EQ(rows[0].label, "pos");
}

TEST(TextTable, BadFilesNameFileAndLine) {
  auto expect = [](const std::string& path, const std::string& fragment) {
    const auto msg = read_error(path);
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  };
  expect(write_temp("missing.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\"}\n"),
         ":2: missing field 'label'");
  expect(write_temp("nocol.csv", "text,category\nhello,x\n"), ":1: header has no 'label' column");
  expect(write_temp("empty_text.jsonl", "{\"text\": \"  \", \"label\": \"x\"}\n"), ":1: field 'text' is empty");
  expect(write_temp("utf8.jsonl", "{\"text\": \"ok\", \"label\": \"x\"}\n{\"text\": \"bad \xFF\", \"label\": \"x\"}\n"),
         ":2: line is not valid UTF-8");
  expect(write_temp("utf8.csv", "text,label\nbad \xC3,x\n"), ":2: field 'text' is not valid UTF-8");
  expect(write_temp("empty.jsonl", ""), "file holds no examples");
  expect(write_temp("empty.csv", ""), "file is empty");
  expect(write_temp("json.jsonl", "{\"text\": \"a\", \"label\": }\n"), ":1: malformed JSON");
  expect(write_temp("width.csv", "text,label\na,b,c\n"), ":2: expected 2 columns, found 3");
  expect(write_temp("quote.csv", "text,label\n\"open,x\n"), ":2: unterminated quoted field");
  expect(write_temp("format.txt", "x"), "unknown format");
  expect("/nonexistent/moecollab.jsonl", "cannot open file");
}

}  // namespace moecollab
