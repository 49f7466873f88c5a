// dataset.hpp — labelled text files in the four formats sentiment data comes in, auto-detected:
//   tsv       header `label<TAB>text`, then `0<TAB>…` (what ../shared/data uses)
//   glue      header `sentence<TAB>label` (GLUE's SST-2 files)
//   sst2      tsv or glue (told apart by the header) whose texts are Penn Treebank tokens, as
//             SST-2's are (`it 's`, `do n't`, `-lrb-`, `good , bad .`): they are joined back
//             into written text (ptb_detokenize), the text a model meets outside the dataset.
//             Asked for, never detected.
//   csv       header `label,review` (ChnSentiCorp_htl_all.csv), RFC 4180 quoting: fields in
//             "…" may hold commas, newlines and "" for a quote
//   fasttext  no header, `__label__1 text` or `__label__positive text`
// and, only when asked for (pretraining reads unlabelled text):
//   text      no header, one text per line, no label (every label reads as 0)
// Labels are 0/1 or negative/positive (neg/pos). Gzip files are decompressed (zlib), whatever
// their name; a truncated or corrupt one is an error, never a shorter dataset.
// A malformed row (wrong field count, unknown label, empty text, invalid UTF-8) is reported
// with file and line and skipped, or raises DataError under `strict`.
#pragma once

#include <zlib.h>

#include <ember/io/file.hpp>
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "unicode.hpp"

namespace sentiment {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Example {
  int label = 0;
  std::string text;
};

// Text: one unlabelled text per line (for pretraining; never auto-detected).
enum class Format { Auto, Tsv, Glue, Csv, FastText, Text, Sst2 };

inline const char* format_name(Format f) {
  switch (f) {
    case Format::Tsv: return "tsv";
    case Format::Glue: return "glue";
    case Format::Csv: return "csv";
    case Format::FastText: return "fasttext";
    case Format::Text: return "text";
    case Format::Sst2: return "sst2";
    default: return "auto";
  }
}
inline Format parse_format(const std::string& s) {
  if (s == "auto") return Format::Auto;
  if (s == "tsv") return Format::Tsv;
  if (s == "glue") return Format::Glue;
  if (s == "sst2") return Format::Sst2;
  if (s == "csv") return Format::Csv;
  if (s == "fasttext") return Format::FastText;
  if (s == "text") return Format::Text;
  throw DataError("unknown format '" + s + "' (auto, tsv, glue, sst2, csv, fasttext, text)");
}

struct ReadOptions {
  Format format = Format::Auto;
  bool strict = false;
};

struct ReadReport {
  Format format = Format::Auto;  // the one used
  std::int64_t rows = 0;         // examples read
  std::int64_t skipped = 0;      // malformed rows left out
  std::vector<std::string> problems;  // "file:line: what", the first 20
};

/// Limits that no real dataset reaches and that a hostile file cannot exceed: the bytes of a
/// file after decompression (the largest shared corpus is about 330 MB), and the bytes of one
/// text (IMDB's longest review is 14 KB; a text is decoded to 4 bytes per character, then
/// normalised, so a 1 GB line would cost gigabytes).
inline constexpr std::int64_t kMaxDatasetBytes = std::int64_t{1} << 30;
inline constexpr std::int64_t kMaxTextBytes = std::int64_t{1} << 20;

/// `bytes` inflated if they are gzip (one member or several concatenated), else unchanged. A
/// truncated or corrupt stream and an output beyond `max_bytes` (a decompression bomb) raise
/// DataError naming `path`.
inline std::string gunzip_if_compressed(std::string bytes, const std::string& path,
                                        std::int64_t max_bytes = kMaxDatasetBytes) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f ||
      static_cast<unsigned char>(bytes[1]) != 0x8b) {
    return bytes;
  }
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw DataError(path + ": cannot start the gzip decoder");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  std::string out;
  std::size_t in_at = 0;
  char buf[1 << 16];
  for (;;) {
    const std::size_t chunk = std::min<std::size_t>(bytes.size() - in_at, 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(bytes.data() + in_at);
    z.avail_in = static_cast<uInt>(chunk);
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_NO_FLUSH);
    in_at += chunk - z.avail_in;
    out.append(buf, sizeof buf - z.avail_out);
    if (static_cast<std::int64_t>(out.size()) > max_bytes) {
      throw DataError(path + ": decompresses to more than " + std::to_string(max_bytes >> 20) +
                      " MiB (the limit for one dataset file)");
    }
    if (rc == Z_STREAM_END) {
      if (in_at == bytes.size()) break;  // the last member ended: done
      if (inflateReset(&z) != Z_OK) throw DataError(path + ": gzip decoder error");
      continue;  // another member follows (concatenated .gz files)
    }
    if (rc == Z_BUF_ERROR && in_at == bytes.size()) {
      throw DataError(path + ": truncated gzip file (the compressed stream ends after " +
                      std::to_string(out.size()) + " bytes of text)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw DataError(path + ": corrupt gzip data after " + std::to_string(out.size()) +
                      " bytes of text" + (z.msg ? std::string(": ") + z.msg : std::string()));
    }
  }
  return out;
}

/// The whole file, decompressed if it is gzip; a regular file only (not a directory or a
/// device such as /dev/zero), within kMaxDatasetBytes before and after decompression.
inline std::string read_file_bytes(const std::string& path) {
  std::string raw;
  try {
    raw = ember::io::read_file(path, kMaxDatasetBytes, "read");
  } catch (const ember::Error& e) {
    throw DataError(e.what());
  }
  return gunzip_if_compressed(std::move(raw), path);
}

/// 0/1 or a label word; -1 if it is neither.
inline int parse_label(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s == "0" || s == "negative" || s == "neg") return 0;
  if (s == "1" || s == "positive" || s == "pos") return 1;
  return -1;
}

/// Penn Treebank tokens joined back into written text (SST-2's texts are PTB tokens; people
/// write `it's`, `don't`, `(so)` and `good, bad.`): `it 's` → `it's`, `ca n't` → `can't`,
/// `-lrb- so -rrb-` → `(so)`, ``` `` a '' ``` → `"a"`, `good , bad .` → `good, bad.`,
/// `gon na` → `gonna`, `$ 5` → `$5`. Tokens are matched ignoring ASCII case; any other text is
/// kept, but for runs of spaces, which become one. Only ASCII spaces are removed and only ASCII
/// tokens replaced, so valid UTF-8 stays valid, and a non-blank text stays non-blank.
inline std::string ptb_detokenize(std::string_view s) {
  auto lower = [](std::string_view t) {
    std::string l(t);
    for (char& c : l) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return l;
  };
  auto in = [](std::string_view t, std::initializer_list<std::string_view> set) {
    return std::find(set.begin(), set.end(), t) != set.end();
  };
  std::string out;
  out.reserve(s.size());
  std::string prev;      // the previous token, lower-cased
  bool glue_next = false;  // the previous token opens: no space after it
  std::size_t at = 0;
  while (at < s.size()) {
    if (s[at] == ' ') {
      ++at;
      continue;
    }
    std::size_t end = s.find(' ', at);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view tok = s.substr(at, end - at);
    at = end;
    const std::string l = lower(tok);
    std::string_view written = tok;
    if (l == "-lrb-") written = "(";
    else if (l == "-rrb-") written = ")";
    else if (l == "-lsb-") written = "[";
    else if (l == "-rsb-") written = "]";
    else if (l == "-lcb-") written = "{";
    else if (l == "-rcb-") written = "}";
    else if (l == "``" || l == "''") written = "\"";
    else if (l == "`") written = "'";
    const bool closes = in(l, {",", ".", "!", "?", ";", ":", "...", "%", "-rrb-", "-rsb-", "-rcb-", ")", "]", "}",
                               "''", "n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}) ||
                        (l == "na" && in(prev, {"gon", "wan"})) || (l == "ta" && prev == "got");
    if (!out.empty() && !glue_next && !closes) out += ' ';
    out += written;
    glue_next = in(l, {"-lrb-", "-lsb-", "-lcb-", "(", "[", "{", "``", "`", "$", "#"});
    prev = l;
  }
  return out;
}

namespace detail {

struct Row {
  std::vector<std::string> fields;
  std::int64_t line = 0;  // 1-based line where the row starts
};

// Lines (without \n or a trailing \r), with their line numbers.
inline std::vector<Row> split_lines(std::string_view data) {
  std::vector<Row> rows;
  std::int64_t line = 1;
  std::size_t at = 0;
  while (at < data.size()) {
    std::size_t nl = data.find('\n', at);
    if (nl == std::string_view::npos) nl = data.size();
    std::string_view l = data.substr(at, nl - at);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    rows.push_back({{std::string(l)}, line});
    ++line;
    at = nl + 1;
  }
  return rows;
}

// RFC 4180 records; a quoted field may span lines. Throws DataError on an unterminated quote.
inline std::vector<Row> parse_csv(std::string_view data, const std::string& path) {
  std::vector<Row> rows;
  std::int64_t line = 1;
  std::size_t i = 0;
  while (i < data.size()) {
    Row row;
    row.line = line;
    std::string field;
    bool in_quotes = false, quoted = false;
    for (;;) {
      if (i >= data.size()) {
        if (in_quotes) {
          throw DataError(path + ":" + std::to_string(row.line) +
                          ": unterminated quoted field");
        }
        row.fields.push_back(field);
        break;
      }
      const char c = data[i];
      if (in_quotes) {
        if (c == '"') {
          if (i + 1 < data.size() && data[i + 1] == '"') {
            field += '"';
            i += 2;
          } else {
            in_quotes = false;
            ++i;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        continue;
      }
      if (c == '"' && field.empty() && !quoted) {
        in_quotes = quoted = true;
        ++i;
      } else if (c == ',') {
        row.fields.push_back(field);
        field.clear();
        quoted = false;
        ++i;
      } else if (c == '\n' || c == '\r') {
        row.fields.push_back(field);
        if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
        ++i;
        ++line;
        break;
      } else {
        field += c;
        ++i;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

inline Format detect(std::string_view data) {
  std::string_view first = data.substr(0, data.find('\n'));
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  if (first.rfind("\xEF\xBB\xBF", 0) == 0) first.remove_prefix(3);  // UTF-8 BOM
  if (first.rfind("__label__", 0) == 0) return Format::FastText;
  if (first.rfind("sentence\tlabel", 0) == 0) return Format::Glue;
  if (first.find('\t') != std::string_view::npos) return Format::Tsv;
  if (first.find(',') != std::string_view::npos) return Format::Csv;
  return Format::Tsv;
}

}  // namespace detail

/// Parses labelled examples from the (decompressed) bytes of a file; `path` names it in messages.
inline std::vector<Example> parse_dataset(std::string data, const std::string& path,
                                          const ReadOptions& opt, ReadReport& report) {
  if (data.rfind("\xEF\xBB\xBF", 0) == 0) data.erase(0, 3);
  // Text has no NUL bytes: a binary file (an image, a model, a .zip) is refused as a whole
  // instead of being reported as thousands of malformed rows.
  if (const std::size_t nul = std::string_view(data).substr(0, 1 << 16).find('\0'); nul != std::string::npos) {
    throw DataError(path + ": not a text file (a NUL byte at offset " + std::to_string(nul) + ")");
  }
  report = ReadReport{};
  report.format = opt.format == Format::Auto ? detail::detect(data) : opt.format;
  // sst2: the layout (label-first tsv or GLUE's text-first) is read from the header.
  const bool ptb = report.format == Format::Sst2;
  const Format layout = !ptb ? report.format : detail::detect(data) == Format::Glue ? Format::Glue : Format::Tsv;
  std::vector<detail::Row> rows = layout == Format::Csv
                                      ? detail::parse_csv(data, path)
                                      : detail::split_lines(data);
  std::vector<Example> out;
  auto problem = [&](std::int64_t line, const std::string& what) {
    const std::string msg = path + ":" + std::to_string(line) + ": " + what;
    if (opt.strict) throw DataError(msg);
    ++report.skipped;
    if (report.problems.size() < 20) report.problems.push_back(msg);
  };
  const bool has_header = layout != Format::FastText && layout != Format::Text;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    detail::Row& row = rows[r];
    if (row.fields.size() == 1 && row.fields[0].empty()) continue;  // blank line
    if (has_header && r == 0) {
      // A header is recognised and skipped; a file without one starts with data.
      const std::string& f0 = row.fields[0];
      if (f0.rfind("label", 0) == 0 || f0.rfind("sentence", 0) == 0) continue;
    }
    std::string label_s, text;
    if (layout == Format::Csv) {
      if (row.fields.size() < 2) {
        problem(row.line, "expected 2 comma-separated fields (label,text), got " +
                              std::to_string(row.fields.size()));
        continue;
      }
      label_s = row.fields[0];
      // Unquoted commas inside the review: everything after the first field is the text.
      text = row.fields[1];
      for (std::size_t k = 2; k < row.fields.size(); ++k) text += "," + row.fields[k];
    } else if (layout == Format::Text) {
      label_s = "0";  // unlabelled: the label is never read
      text = row.fields[0];
    } else if (layout == Format::FastText) {
      const std::string& l = row.fields[0];
      if (l.rfind("__label__", 0) != 0) {
        problem(row.line, "expected '__label__<label> <text>'");
        continue;
      }
      const std::size_t sp = l.find(' ');
      label_s = l.substr(9, sp == std::string::npos ? std::string::npos : sp - 9);
      text = sp == std::string::npos ? "" : l.substr(sp + 1);
    } else {
      const std::string& l = row.fields[0];
      const std::size_t tab = l.find('\t');
      if (tab == std::string::npos) {
        problem(row.line, "expected 2 tab-separated fields, got 1");
        continue;
      }
      if (layout == Format::Glue) {
        const std::size_t last = l.rfind('\t');
        text = l.substr(0, last);
        label_s = l.substr(last + 1);
      } else {
        label_s = l.substr(0, tab);
        text = l.substr(tab + 1);
      }
    }
    const int label = parse_label(label_s);
    if (label < 0) {
      problem(row.line, "unknown label '" + label_s + "' (expected 0/1 or negative/positive)");
      continue;
    }
    if (static_cast<std::int64_t>(text.size()) > kMaxTextBytes) {
      problem(row.line, "text of " + std::to_string(text.size()) + " bytes is longer than the limit of " +
                            std::to_string(kMaxTextBytes) + " bytes for one text");
      continue;
    }
    if (auto bad = find_invalid_utf8(text)) {
      problem(row.line, "invalid UTF-8 at byte " + std::to_string(*bad) + " of the text");
      continue;
    }
    std::size_t b = text.find_first_not_of(" \t\r");
    if (b == std::string::npos) {
      problem(row.line, "empty text");
      continue;
    }
    if (ptb) text = ptb_detokenize(text);
    out.push_back({label, std::move(text)});
  }
  report.rows = static_cast<std::int64_t>(out.size());
  if (out.empty()) {
    throw DataError(path + ": no examples (format " + format_name(report.format) + ")" +
                    (report.problems.empty() ? std::string() : "; first problem: " + report.problems.front()));
  }
  return out;
}

/// Reads labelled examples from `path` (see the file comment).
inline std::vector<Example> read_dataset(const std::string& path, const ReadOptions& opt,
                                         ReadReport& report) {
  return parse_dataset(read_file_bytes(path), path, opt, report);
}

}  // namespace sentiment
