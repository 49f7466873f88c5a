// Input formats, auto-detection, gzip, and every kind of malformed row.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "dataset.hpp"

using namespace sentiment;

namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  const auto dir = std::filesystem::temp_directory_path() / "sentiment_tests";
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::vector<Example> read(const std::string& path, ReadReport& rep, ReadOptions o = {}) {
  return read_dataset(path, o, rep);
}

}  // namespace

TEST(Dataset, TsvGlueCsvFastTextAutoDetected) {
  ReadReport rep;
  auto tsv = read(write_temp("a.tsv", "label\ttext\n1\t很好\n0\tbad\tstill text\n"), rep);
  EXPECT_EQ(rep.format, Format::Tsv);
  ASSERT_EQ(tsv.size(), 2u);
  EXPECT_EQ(tsv[0].label, 1);
  EXPECT_EQ(tsv[1].text, "bad\tstill text");  // split at the first TAB only

  auto glue = read(write_temp("b.tsv", "sentence\tlabel\nit 's fine \t1\nawful\t0\n"), rep);
  EXPECT_EQ(rep.format, Format::Glue);
  ASSERT_EQ(glue.size(), 2u);
  EXPECT_EQ(glue[0].text, "it 's fine ");
  EXPECT_EQ(glue[1].label, 0);

  auto csv = read(write_temp("c.csv",
                             "label,review\r\n1,\"Great, \"\"really\"\" great\nsecond line\"\r\n"
                             "0,plain, with comma\r\n"),
                  rep);
  EXPECT_EQ(rep.format, Format::Csv);
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv[0].text, "Great, \"really\" great\nsecond line");
  EXPECT_EQ(csv[1].text, "plain, with comma");

  auto ft = read(write_temp("d.txt", "__label__positive loved it\n__label__0 meh\n"), rep);
  EXPECT_EQ(rep.format, Format::FastText);
  ASSERT_EQ(ft.size(), 2u);
  EXPECT_EQ(ft[0].label, 1);
  EXPECT_EQ(ft[0].text, "loved it");
}

TEST(Dataset, PtbTokensAreJoinedBackIntoWrittenText) {
  // SST-2's own texts (dev.tsv) and what they were before the Penn Treebank tokenizer.
  EXPECT_EQ(ptb_detokenize("it 's a charming and often affecting journey ."),
            "it's a charming and often affecting journey.");
  EXPECT_EQ(ptb_detokenize("i ca n't believe it wo n't stop , they 're gon na do it"),
            "i can't believe it won't stop, they're gonna do it");
  EXPECT_EQ(ptb_detokenize("a -lrb- mostly -rrb- great film -- really !"), "a (mostly) great film -- really!");
  EXPECT_EQ(ptb_detokenize("`` the best '' ; $ 5 and 100 % of it : fine ... ok ?"),
            "\"the best\"; $5 and 100% of it: fine... ok?");
  EXPECT_EQ(ptb_detokenize("I 'M sure YOU 'LL see -LRB- IT -RRB-"), "I'M sure YOU'LL see (IT)");
  EXPECT_EQ(ptb_detokenize("  spaces   between\twords  "), "spaces between\twords");
  EXPECT_EQ(ptb_detokenize("n't"), "n't");  // nothing to attach to
  EXPECT_EQ(ptb_detokenize("the actors ' lines , don't"), "the actors ' lines, don't");  // ' alone stays
  EXPECT_EQ(ptb_detokenize("好 , 很好 。"), "好, 很好 。");
  EXPECT_EQ(ptb_detokenize(""), "");
}

TEST(Dataset, Sst2FormatReadsEitherLayoutAndDetokenizes) {
  ReadReport rep;
  auto tsv = read(write_temp("sst2.tsv", "label\ttext\n1\tit 's fine .\n0\tdo n't -lrb- ever -rrb-\n"), rep,
                  {.format = Format::Sst2});
  EXPECT_EQ(rep.format, Format::Sst2);
  ASSERT_EQ(tsv.size(), 2u);
  EXPECT_EQ(tsv[0].label, 1);
  EXPECT_EQ(tsv[0].text, "it's fine.");
  EXPECT_EQ(tsv[1].label, 0);
  EXPECT_EQ(tsv[1].text, "don't (ever)");
  auto glue = read(write_temp("sst2-glue.tsv", "sentence\tlabel\nit 's fine \t1\n"), rep, {.format = Format::Sst2});
  ASSERT_EQ(glue.size(), 1u);
  EXPECT_EQ(glue[0].label, 1);
  EXPECT_EQ(glue[0].text, "it's fine");
  EXPECT_EQ(parse_format("sst2"), Format::Sst2);
  EXPECT_STREQ(format_name(Format::Sst2), "sst2");
  // Never detected: the same file read as auto keeps its tokens.
  auto raw = read(write_temp("sst2-auto.tsv", "label\ttext\n1\tit 's fine .\n"), rep);
  EXPECT_EQ(rep.format, Format::Tsv);
  EXPECT_EQ(raw[0].text, "it 's fine .");
}

TEST(Dataset, UnlabelledTextOnlyWhenAsked) {
  ReadReport rep;
  const std::string path = write_temp("raw.txt", "label\ttext is a line too\n很好\n\n  \nbad\xff\n");
  auto lines = read(path, rep, {.format = Format::Text});
  EXPECT_EQ(rep.format, Format::Text);
  ASSERT_EQ(lines.size(), 2u);  // no header; blank lines skipped; whitespace-only and invalid UTF-8 reported
  EXPECT_EQ(lines[0].text, "label\ttext is a line too");
  EXPECT_EQ(lines[1].text, "很好");
  EXPECT_EQ(rep.skipped, 2);
  EXPECT_EQ(rep.problems.back(), path + ":5: invalid UTF-8 at byte 3 of the text");
  EXPECT_EQ(parse_format("text"), Format::Text);
}

TEST(Dataset, ReadsGzip) {
  const auto path = (std::filesystem::temp_directory_path() / "sentiment_tests" / "e.tsv.gz").string();
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  const std::string body = "label\ttext\n1\tgood movie\n";
  gzwrite(f, body.data(), static_cast<unsigned>(body.size()));
  gzclose(f);
  ReadReport rep;
  auto ex = read(path, rep);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].text, "good movie");
}

TEST(Dataset, MalformedRowsAreReportedWithFileAndLineAndSkipped) {
  const std::string path = write_temp(
      "bad.tsv", "label\ttext\n1\tfine\nno tab here\n7\tunknown label\n0\t   \n1\t\xC3\x28oops\n0\tok\n");
  ReadReport rep;
  auto ex = read(path, rep);
  EXPECT_EQ(ex.size(), 2u);
  EXPECT_EQ(rep.skipped, 4);
  ASSERT_EQ(rep.problems.size(), 4u);
  EXPECT_EQ(rep.problems[0], path + ":3: expected 2 tab-separated fields, got 1");
  EXPECT_EQ(rep.problems[1], path + ":4: unknown label '7' (expected 0/1 or negative/positive)");
  EXPECT_EQ(rep.problems[2], path + ":5: empty text");
  EXPECT_EQ(rep.problems[3], path + ":6: invalid UTF-8 at byte 0 of the text");
  // --strict: the first problem is fatal, with the same message.
  try {
    read(path, rep, {.strict = true});
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3: expected 2 tab-separated fields, got 1");
  }
}

TEST(Dataset, CsvAndFastTextErrors) {
  ReadReport rep;
  const std::string unterminated = write_temp("u.csv", "label,review\n1,\"never closed\n0,x\n");
  EXPECT_THROW(read(unterminated, rep), DataError);
  auto ex = read(write_temp("f.csv", "label,review\n1\n0,fine\n"), rep);
  EXPECT_EQ(ex.size(), 1u);
  EXPECT_EQ(rep.problems.at(0).substr(rep.problems[0].rfind(':') - 1),
            "2: expected 2 comma-separated fields (label,text), got 1");
  ex = read(write_temp("g.txt", "__label__1 good\nno label\n"), rep, {.format = Format::FastText});
  EXPECT_EQ(ex.size(), 1u);
  EXPECT_EQ(rep.skipped, 1);
  EXPECT_THROW(read(write_temp("h.tsv", "label\ttext\n"), rep), DataError);  // no examples
  EXPECT_THROW(read("/nonexistent/file.tsv", rep), DataError);
  EXPECT_THROW(parse_format("xml"), DataError);
}

TEST(Dataset, SharedDataWhenPresent) {
  // ../shared/data next to the checkout, or EMBER_SHARED_DATA; skipped when absent.
  const char* env = std::getenv("EMBER_SHARED_DATA");
  const std::string dir = env ? env : SHARED_DATA_DIR;
  const std::string p = dir + "/chnsenticorp/dev.tsv";
  if (!std::filesystem::exists(p)) GTEST_SKIP() << "shared datasets not present at " << dir;
  ReadReport rep;
  auto ex = read(p, rep, {.strict = true});
  EXPECT_EQ(ex.size(), 1200u);
  EXPECT_EQ(rep.format, Format::Tsv);
}
