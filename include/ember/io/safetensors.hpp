// ember/io/safetensors.hpp — checkpoints in the safetensors format (huggingface/safetensors):
//   8 bytes: N, the header length, unsigned little-endian
//   N bytes: JSON {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, …,
//                  "__metadata__": {"key": "value", …}}   (padded with spaces to 8 bytes)
//   the data: each tensor's bytes, row-major little-endian, at [b, e) of this buffer.
// Layer: io. Files written here open in Python's safetensors and PyTorch. Writing is atomic
// (io/file.hpp: a unique temporary file in the same directory, renamed when complete).
// Loading reads only regular files of bounded size, and trusts nothing: the header
// length against the file size, the JSON, dtypes, shapes against offsets, overlapping,
// out-of-range or uncovered byte ranges, and duplicate names all raise ember::Error naming the
// file and the problem; nothing is read out of bounds.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/io/file.hpp"
#include "ember/io/json.hpp"

namespace ember::io {

static_assert(std::endian::native == std::endian::little,
              "ember's safetensors reader/writer assumes a little-endian machine");

/// A tensor of any element type ember supports.
using AnyTensor = std::variant<Tensor<float>, Tensor<double>, Tensor<std::int32_t>,
                               Tensor<std::int64_t>, Tensor<bool>, Tensor<bfloat16>,
                               Tensor<std::int8_t>, Tensor<std::uint8_t>>;

/// The contents of a safetensors file: tensors in file order, and the string metadata.
struct Checkpoint {
  std::vector<std::pair<std::string, AnyTensor>> tensors;
  std::map<std::string, std::string> metadata;

  /// The tensor called `name` as Tensor<T>; ember::Error if absent or of another type.
  template <Scalar T>
  Tensor<T> get(const std::string& name) const {
    for (auto& [n, t] : tensors) {
      if (n != name) continue;
      const Tensor<T>* p = std::get_if<Tensor<T>>(&t);
      EMBER_CHECK(p != nullptr, "Checkpoint::get", "tensor '", name, "' is not ",
                  dtype_name(dtype_of<T>));
      return *p;
    }
    ember::detail::fail("Checkpoint::get", "no tensor named '", name, "'");
  }
  bool contains(const std::string& name) const {
    return std::any_of(tensors.begin(), tensors.end(), [&](auto& e) { return e.first == name; });
  }
};

namespace detail {

inline const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::Bool:
      return "BOOL";
    case DType::Int32:
      return "I32";
    case DType::Int64:
      return "I64";
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
    case DType::BFloat16:
      return "BF16";
    case DType::Int8:
      return "I8";
    case DType::UInt8:
      return "U8";
  }
  return "?";
}

template <class T>
AnyTensor read_tensor(const char* bytes, const Shape& shape, const std::string& where) {
  Tensor<T> t = Tensor<T>::empty(shape);
  if (t.numel() > 0)
    std::memcpy(static_cast<void*>(t.data()), bytes, static_cast<std::size_t>(t.nbytes()));
  if constexpr (std::is_same_v<T, bool>) {
    for (std::int64_t i = 0; i < t.numel(); ++i) {  // a byte other than 0/1 is not a valid bool
      unsigned char b;
      std::memcpy(&b, bytes + i, 1);
      if (b > 1) {
        ember::detail::fail(where, "BOOL element ", i, " is the byte ", int{b},
                            " (a BOOL byte must be 0 or 1)");
      }
      t.data()[i] = b != 0;
    }
  }
  return t;
}

}  // namespace detail

/// Writes `tensors` (and `metadata`) to `path` atomically. Names must be unique and non-empty.
///
///     ember::io::save_safetensors("model.safetensors", {{"w", w.data()}}, {{"epochs", "3"}});
inline void save_safetensors(const std::string& path,
                             const std::vector<std::pair<std::string, AnyTensor>>& tensors,
                             const std::map<std::string, std::string>& metadata = {}) {
  const std::string ctx = "save_safetensors: " + path;
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it) {
      if (it != metadata.begin()) header += ",";
      header += json_quote(it->first) + ":" + json_quote(it->second);
    }
    header += "}";
    first = false;
  }
  std::vector<std::string> names;
  std::int64_t offset = 0;
  for (const auto& entry : tensors) {
    const std::string& name = entry.first;  // not a structured binding: lambdas capture it
    const AnyTensor& any = entry.second;
    EMBER_CHECK(!name.empty() && name != "__metadata__", ctx, "invalid tensor name '", name, "'");
    EMBER_CHECK(std::find(names.begin(), names.end(), name) == names.end(), ctx,
                "duplicate tensor name '", name, "'");
    names.push_back(name);
    std::visit(
        [&](const auto& t) {
          // Appends, not chained operator+: g++ 12 raises a false -Wrestrict on the latter.
          if (!first) header += ',';
          header += json_quote(name);
          header += ":{\"dtype\":\"";
          header += detail::safetensors_dtype(t.dtype());
          header += "\",\"shape\":[";
          for (int d = 0; d < t.dim(); ++d) {
            if (d) header += ',';
            header += std::to_string(t.shape()[d]);
          }
          header += "],\"data_offsets\":[";
          header += std::to_string(offset);
          header += ',';
          header += std::to_string(offset + t.nbytes());
          header += "]}";
          offset += t.nbytes();
          first = false;
        },
        any);
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned

  AtomicFile out(path);  // a unique temporary file, renamed over `path` only when complete
  const std::uint64_t n = header.size();
  out.write(&n, 8);
  out.write(header);
  for (auto& [name, any] : tensors) {
    std::visit(
        [&](const auto& t) {
          using T = typename std::decay_t<decltype(t)>::value_type;
          auto c = t.contiguous();
          if constexpr (std::is_same_v<T, bool>) {
            std::string bytes(static_cast<std::size_t>(c.numel()), '\0');
            for (std::int64_t i = 0; i < c.numel(); ++i) {
              bytes[static_cast<std::size_t>(i)] = c.data()[i] ? 1 : 0;
            }
            out.write(bytes);
          } else {
            out.write(c.data(), static_cast<std::size_t>(c.nbytes()));
          }
        },
        any);
  }
  out.commit();
}

/// Parses and validates the bytes of a safetensors file; `name` labels error messages.
inline Checkpoint parse_safetensors(std::string_view file, const std::string& name) {
  const std::string ctx = "load_safetensors: " + name;
  const std::int64_t file_size = static_cast<std::int64_t>(file.size());
  EMBER_CHECK(file_size >= 8, ctx, "file of ", file_size,
              " bytes is shorter than the 8-byte header length");
  std::uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  constexpr std::uint64_t kMaxHeader = 100'000'000;  // the format's own limit
  EMBER_CHECK(n <= kMaxHeader && n <= static_cast<std::uint64_t>(file_size - 8), ctx,
              "header length ", n, " exceeds the file size ", file_size);
  const std::string_view header = file.substr(8, static_cast<std::size_t>(n));
  const std::int64_t data_size = file_size - 8 - static_cast<std::int64_t>(n);
  const std::string_view data = file.substr(8 + static_cast<std::size_t>(n));

  const JsonValue root = parse_json(header, ctx);
  EMBER_CHECK(root.kind == JsonValue::Kind::Object, ctx, "the header is not a JSON object");
  Checkpoint ck;
  struct Range {
    std::int64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (std::size_t e = 0; e < root.keys.size(); ++e) {
    const std::string& name = root.keys[e];
    const JsonValue& entry = root.items[e];
    if (name == "__metadata__") {
      EMBER_CHECK(entry.kind == JsonValue::Kind::Object, ctx, "__metadata__ is not an object");
      for (std::size_t m = 0; m < entry.keys.size(); ++m) {
        EMBER_CHECK(entry.items[m].kind == JsonValue::Kind::String, ctx, "metadata value '",
                    entry.keys[m], "' is not a string");
        ck.metadata[entry.keys[m]] = entry.items[m].text;
      }
      continue;
    }
    const std::string where = ctx + ": tensor '" + name + "'";
    EMBER_CHECK(entry.kind == JsonValue::Kind::Object, where, "entry is not an object");
    const JsonValue* dtype = entry.find("dtype");
    const JsonValue* shape_v = entry.find("shape");
    const JsonValue* offsets = entry.find("data_offsets");
    EMBER_CHECK(dtype && shape_v && offsets && entry.keys.size() == 3, where,
                "needs exactly dtype, shape and data_offsets");
    EMBER_CHECK(dtype->kind == JsonValue::Kind::String, where, "dtype is not a string");
    EMBER_CHECK(shape_v->kind == JsonValue::Kind::Array && shape_v->items.size() <= kMaxRank, where,
                "shape is not an array of at most ", kMaxRank, " sizes");
    EMBER_CHECK(offsets->kind == JsonValue::Kind::Array && offsets->items.size() == 2, where,
                "data_offsets is not [begin, end]");
    Shape shape;
    for (auto& d : shape_v->items) {
      const std::int64_t v = json_int(d, where, "a shape entry");
      EMBER_CHECK(v >= 0, where, "negative dimension ", v);
      shape.push_back(v);
    }
    const std::int64_t begin = json_int(offsets->items[0], where, "data_offsets[0]");
    const std::int64_t end = json_int(offsets->items[1], where, "data_offsets[1]");
    EMBER_CHECK(0 <= begin && begin <= end && end <= data_size, where, "data_offsets [", begin,
                ", ", end, "] are outside the ", data_size, "-byte data section");
    DType dt;
    const std::string& d = dtype->text;
    if (d == "F32")
      dt = DType::Float32;
    else if (d == "F64")
      dt = DType::Float64;
    else if (d == "I32")
      dt = DType::Int32;
    else if (d == "I64")
      dt = DType::Int64;
    else if (d == "BOOL")
      dt = DType::Bool;
    else if (d == "BF16")
      dt = DType::BFloat16;
    else if (d == "I8")
      dt = DType::Int8;
    else if (d == "U8")
      dt = DType::UInt8;
    else
      ember::detail::fail(where, "unsupported dtype '", d, "'");
    const std::int64_t numel = checked_numel(shape, where, dtype_size(dt));
    EMBER_CHECK(numel * dtype_size(dt) == end - begin, where, "shape ", shape, " of ", dtype->text,
                " needs ", numel * dtype_size(dt), " bytes but data_offsets give ", end - begin);
    const char* bytes = data.data() + begin;
    AnyTensor t;
    switch (dt) {
      case DType::Float32:
        t = detail::read_tensor<float>(bytes, shape, where);
        break;
      case DType::Float64:
        t = detail::read_tensor<double>(bytes, shape, where);
        break;
      case DType::Int32:
        t = detail::read_tensor<std::int32_t>(bytes, shape, where);
        break;
      case DType::Int64:
        t = detail::read_tensor<std::int64_t>(bytes, shape, where);
        break;
      case DType::Bool:
        t = detail::read_tensor<bool>(bytes, shape, where);
        break;
      case DType::BFloat16:
        t = detail::read_tensor<bfloat16>(bytes, shape, where);
        break;
      case DType::Int8:
        t = detail::read_tensor<std::int8_t>(bytes, shape, where);
        break;
      case DType::UInt8:
        t = detail::read_tensor<std::uint8_t>(bytes, shape, where);
        break;
    }
    ck.tensors.emplace_back(name, std::move(t));
    ranges.push_back({begin, end, name});
  }
  // The byte ranges must tile the data section exactly: no overlap, no gap, nothing after.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::int64_t cursor = 0;
  for (const Range& r : ranges) {
    EMBER_CHECK(r.begin >= cursor, ctx, "tensor '", r.name,
                "' overlaps the previous tensor's bytes");
    EMBER_CHECK(r.begin == cursor, ctx, "bytes ", cursor, " to ", r.begin, " before tensor '",
                r.name, "' belong to no tensor");
    cursor = r.end;
  }
  EMBER_CHECK(cursor == data_size, ctx, "bytes ", cursor, " to ", data_size,
              " at the end belong to no tensor");
  return ck;
}

/// Files larger than this are refused by load_safetensors unless a larger limit is given.
inline constexpr std::int64_t kDefaultMaxCheckpointBytes = std::int64_t{16} << 30;

/// Reads and validates a safetensors file: a regular file of at most `max_bytes`.
inline Checkpoint load_safetensors(const std::string& path,
                                   std::int64_t max_bytes = kDefaultMaxCheckpointBytes) {
  return parse_safetensors(read_file(path, max_bytes, "load_safetensors"), path);
}

}  // namespace ember::io
