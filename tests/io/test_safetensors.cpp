// safetensors: round trips (bit-exact, every dtype), a file built byte by byte from the format
// description, atomic writes, and one test per kind of corrupt or hostile file.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "../test_util.hpp"

using ember::Tensor;
namespace io = ember::io;
namespace fs = std::filesystem;

namespace {

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ember_st_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes a raw file: 8-byte length, header text, data bytes.
  std::string raw(const std::string& name, const std::string& header, const std::string& data,
                  std::uint64_t declared = std::numeric_limits<std::uint64_t>::max()) {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    std::uint64_t n =
        declared == std::numeric_limits<std::uint64_t>::max() ? header.size() : declared;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header << data;
    return p;
  }

  fs::path dir_;
};

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.begin(), s.size());
  return s;
}

}  // namespace

TEST_F(Safetensors, RoundTripEveryDtypeBitExact) {
  ember::Generator g(1);
  Tensor<float> f = ember::randn({3, 4}, g);
  f.at(0, 0) = std::numeric_limits<float>::quiet_NaN();
  f.at(0, 1) = -0.0f;
  Tensor<double> d = ember::randn<double>({5}, g);
  Tensor<std::int32_t> i32{{1, -2}, {3, 2147483647}};
  Tensor<std::int64_t> i64{-9223372036854775807LL, 42};
  Tensor<bool> b{true, false, true};
  Tensor<ember::bfloat16> h = ember::randn({2, 2}, g).to<ember::bfloat16>();
  Tensor<std::int8_t> i8{-128, 0, 127};
  Tensor<std::uint8_t> u8{{0, 255}, {7, 128}};
  Tensor<float> strided = ember::arange(12).reshape({3, 4}).t();  // written contiguous
  Tensor<float> empty = ember::zeros({0, 7});
  io::save_safetensors(path("a.safetensors"),
                       {{"f", f},
                        {"d", d},
                        {"i32", i32},
                        {"i64", i64},
                        {"b", b},
                        {"h", h},
                        {"i8", i8},
                        {"u8", u8},
                        {"layers.0.w", strided},
                        {"empty", empty}},
                       {{"format", "pt"}, {"vocab", "a\tb\n\"c\" 酒店"}});
  io::Checkpoint ck = io::load_safetensors(path("a.safetensors"));
  auto same_bits = [](const auto& x, const auto& y) {
    return x.shape() == y.shape() && std::memcmp(x.contiguous().data(), y.contiguous().data(),
                                                 static_cast<std::size_t>(x.nbytes())) == 0;
  };
  EXPECT_TRUE(same_bits(ck.get<float>("f"), f));
  EXPECT_TRUE(same_bits(ck.get<double>("d"), d));
  EXPECT_TRUE(same_bits(ck.get<std::int32_t>("i32"), i32));
  EXPECT_TRUE(same_bits(ck.get<std::int64_t>("i64"), i64));
  EXPECT_EQ(values(ck.get<bool>("b")), (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(same_bits(ck.get<ember::bfloat16>("h"), h));
  EXPECT_EQ(values(ck.get<std::int8_t>("i8")), (std::vector<std::int8_t>{-128, 0, 127}));
  EXPECT_EQ(values(ck.get<std::uint8_t>("u8")), (std::vector<std::uint8_t>{0, 255, 7, 128}));
  EXPECT_TRUE(ember::equal(ck.get<float>("layers.0.w"), strided));
  EXPECT_EQ(ck.get<float>("empty").shape(), (ember::Shape{0, 7}));
  EXPECT_EQ(ck.metadata.at("vocab"), "a\tb\n\"c\" 酒店");
  EXPECT_EQ(ck.tensors[0].first, "f");  // file order kept
  EXPECT_EMBER_ERROR(ck.get<double>("f"), "Checkpoint::get: tensor 'f' is not float64");
  EXPECT_EMBER_ERROR(ck.get<float>("nope"), "no tensor named 'nope'");
}

TEST_F(Safetensors, ReadsAFileBuiltFromTheFormatDescription) {
  // Header as Python's safetensors writes it (keys sorted, metadata first, space padding).
  std::string header =
      R"({"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string p = raw("py.safetensors", header, floats({0.5f, -1.0f, 1.0f, 2.0f, 3.0f, 4.0f}));
  io::Checkpoint ck = io::load_safetensors(p);
  EXPECT_EQ(values(ck.get<float>("bias")), (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(ck.get<float>("weight").at(1, 0), 3.0f);
  EXPECT_EQ(ck.metadata.at("format"), "pt");
}

TEST_F(Safetensors, WritesAtomicallyAndHeaderIsAligned) {
  std::string p = path("m.safetensors");
  io::save_safetensors(p, {{"x", Tensor<float>{1, 2, 3}}});
  std::ifstream in(p, std::ios::binary);
  std::uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u);
  for (auto& e : fs::directory_iterator(dir_)) {  // no temporary file is left behind
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
  // A failing save (duplicate name) leaves the previous file intact.
  EXPECT_EMBER_ERROR(io::save_safetensors(p, {{"x", Tensor<float>{9}}, {"x", Tensor<float>{9}}}),
                     "duplicate tensor name 'x'");
  EXPECT_EQ(values(io::load_safetensors(p).get<float>("x")), (std::vector<float>{1, 2, 3}));
  EXPECT_EMBER_ERROR(io::save_safetensors(path("no/such/dir/m.st"), {{"x", Tensor<float>{1}}}),
                     "cannot create a temporary file in");
}

TEST_F(Safetensors, CorruptFilesRaiseNamedErrors) {
  const std::string ok_entry = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string eight = floats({1, 2});
  EXPECT_EMBER_ERROR(io::load_safetensors(path("missing")), "missing: cannot open: No such file");
  EXPECT_EMBER_ERROR(io::load_safetensors(dir_.string()), "is a directory, not a file");
  EXPECT_EMBER_ERROR(io::load_safetensors("/dev/zero"), "/dev/zero: is not a regular file");
  {
    std::string p = path("big");
    std::ofstream(p, std::ios::binary) << std::string(100, 'x');
    EXPECT_EMBER_ERROR(io::load_safetensors(p, 64),
                       "file of 100 bytes exceeds the limit of 64 bytes");
  }
  {
    std::string p = path("short");
    std::ofstream(p, std::ios::binary) << "abc";
    EXPECT_EMBER_ERROR(io::load_safetensors(p), "shorter than the 8-byte header length");
  }
  struct Case {
    const char* name;
    std::string header, data;
    std::uint64_t declared;
    const char* error;
  };
  const std::uint64_t kAuto = std::numeric_limits<std::uint64_t>::max();
  const std::vector<Case> cases = {
      {"length beyond file", ok_entry, eight, 1000, "header length 1000 exceeds the file size"},
      {"huge length", ok_entry, eight, 1ULL << 62, "exceeds the file size"},
      {"truncated data", ok_entry, eight.substr(0, 5), kAuto, "outside the 5-byte data section"},
      {"invalid json", R"({"x":{"dtype":"F32",)", "", kAuto, "invalid JSON at byte"},
      {"trailing garbage", ok_entry + "x", eight, kAuto, "unexpected data after the JSON value"},
      {"not an object", "[1,2]", "", kAuto, "the header is not a JSON object"},
      {"duplicate names",
       R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       eight, kAuto, "duplicate key \"x\""},
      {"unknown dtype", R"({"x":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", eight,
       kAuto, "unsupported dtype 'F8_E4M3'"},
      {"shape vs offsets", R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight,
       kAuto, "shape [3] of F32 needs 12 bytes but data_offsets give 8"},
      {"negative dim", R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight, kAuto,
       "negative dimension -2"},
      {"overflowing shape",
       R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight,
       kAuto, "size overflow"},
      {"fractional offset", R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}})", eight,
       kAuto, "data_offsets[1] 8.5 is not an int64 integer"},
      {"reversed offsets", R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight,
       kAuto, "data_offsets [8, 0] are outside"},
      {"overlap",
       R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       eight, kAuto, "overlaps the previous tensor's bytes"},
      {"gap", R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight, kAuto,
       "bytes 0 to 4 before tensor 'x' belong to no tensor"},
      {"trailing bytes", ok_entry, eight + "junk", kAuto,
       "bytes 8 to 12 at the end belong to no tensor"},
      {"extra key", R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"evil":1}})", eight,
       kAuto, "needs exactly dtype, shape and data_offsets"},
      {"metadata not strings", R"({"__metadata__":{"a":1}})", "", kAuto,
       "metadata value 'a' is not a string"},
      {"bad bool byte", R"({"b":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})",
       std::string(1, '\x02'), kAuto, "tensor 'b': BOOL element 0 is the byte 2"},
      {"deep nesting", std::string(100, '[') + std::string(100, ']'), "", kAuto,
       "nesting deeper than 64"},
      {"bad escape", R"({"\x":1})", "", kAuto, "invalid escape"},
      {"lone surrogate", R"({"\ud800":1})", "", kAuto, "unpaired high surrogate"},
  };
  for (const Case& c : cases) {
    std::string p = raw(std::string(c.name) + ".st", c.header, c.data, c.declared);
    EXPECT_EMBER_ERROR(io::load_safetensors(p), c.error);
  }
}
