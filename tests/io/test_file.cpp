// io/file.hpp: atomic writes that never cost the destination (a failed write, a full disk, a
// planted symlink, two writers at once), bounded reads that refuse devices and directories, and
// the check that an output never replaces an input.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../test_util.hpp"

namespace io = ember::io;
namespace fs = std::filesystem;

namespace {

class File : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ember_file_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string slurp(const std::string& p) const {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void put(const std::string& p, const std::string& text) const {
    std::ofstream(p, std::ios::binary) << text;
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  fs::path dir_;
};

}  // namespace

TEST_F(File, CommitReplacesAbandonKeeps) {
  const std::string p = path("out.txt");
  put(p, "old");
  {
    io::AtomicFile f(p);
    f.write("new contents");
    EXPECT_EQ(slurp(p), "old");  // nothing visible before commit
    EXPECT_NE(f.temporary_path().find(dir_.string()), std::string::npos);  // same directory
    f.commit();
  }
  EXPECT_EQ(slurp(p), "new contents");
  {
    io::AtomicFile f(p);
    f.write("half");
  }  // destroyed without commit: a failed run
  EXPECT_EQ(slurp(p), "new contents");
  EXPECT_EQ(entries(), 1u);  // the temporary file is gone
}

TEST_F(File, NewFilesGetTheUmasksPermissions) {
  // The temporary file is created 0600; the finished file has what open(2) would give it,
  // read from the umask without setting it (setting it races with other threads).
  const mode_t old = ::umask(027);
  io::write_file_atomic(path("perm.txt"), "x");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(path("perm.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(File, PlantedSymlinkIsNotFollowed) {
  // Another user plants links at every name a predictable writer might use; the victim file
  // must survive, and the destination link is replaced, not written through.
  const std::string victim = path("victim");
  put(victim, "precious");
  for (const char* name : {"out.txt.tmp", ".out.txt.tmp", "out.txt"}) {
    fs::create_symlink(victim, path(name));
  }
  io::write_file_atomic(path("out.txt"), "written");
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(path("out.txt")));
  EXPECT_EQ(slurp(path("out.txt")), "written");
}

TEST_F(File, FullDiskLeavesTheOldFile) {
  // RLIMIT_FSIZE makes a write past 4 KiB fail with EFBIG, as a full disk fails with ENOSPC.
  const std::string p = path("model.bin");
  put(p, "good model");
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  try {
    io::write_file_atomic(p, std::string(1 << 20, 'x'));
  } catch (const ember::Error& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  EXPECT_NE(error.find("model.bin: file too large"), std::string::npos) << error;
  EXPECT_EQ(slurp(p), "good model");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(File, TwoWritersAtOnceLeaveOneCompleteFile) {
  const std::string p = path("shared.txt");
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  for (int round = 0; round < 5; ++round) {
    std::thread t1([&] { io::write_file_atomic(p, a); });
    std::thread t2([&] { io::write_file_atomic(p, b); });
    t1.join();
    t2.join();
    const std::string got = slurp(p);
    EXPECT_TRUE(got == a || got == b) << "a mixed or partial file of " << got.size() << " bytes";
  }
  EXPECT_EQ(entries(), 1u);
}

TEST_F(File, WriteErrorsNameTheFile) {
  EXPECT_EMBER_ERROR(io::write_file_atomic(dir_.string(), "x"), "is a directory");
  EXPECT_EMBER_ERROR(io::write_file_atomic(path("no/such/dir/x"), "x"),
                     "cannot create a temporary file in");
  EXPECT_EMBER_ERROR(io::write_file_atomic("", "x"), "empty output path");
}

TEST_F(File, ReadRefusesDevicesDirectoriesAndHugeFiles) {
  put(path("a"), "hello");
  EXPECT_EQ(io::read_file(path("a"), 100), "hello");
  EXPECT_EMBER_ERROR(io::read_file(path("a"), 4, "load"),
                     "load: " + path("a") + ": file of 5 bytes exceeds the limit of 4 bytes");
  EXPECT_EMBER_ERROR(io::read_file("/dev/zero", 100), "/dev/zero: is not a regular file");
  EXPECT_EMBER_ERROR(io::read_file(dir_.string(), 100), "is a directory, not a file");
  EXPECT_EMBER_ERROR(io::read_file(path("missing"), 100), "cannot open: No such file or directory");
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EMBER_ERROR(io::read_file(fifo, 100), "is not a regular file");  // and does not block
}

TEST_F(File, OutputsNeverReplaceInputs) {
  put(path("train.tsv"), "data");
  fs::create_hard_link(path("train.tsv"), path("hard.tsv"));
  fs::create_symlink(path("train.tsv"), path("soft.tsv"));
  const std::vector<std::pair<std::string, std::string>> in = {{"--train", path("train.tsv")}};
  EXPECT_NO_THROW(
      io::check_outputs(in, {{"--out", path("model.st")}, {"plot", path("model.svg")}}, "train"));
  EXPECT_EMBER_ERROR(io::check_outputs(in, {{"--out", path("train.tsv")}}, "train"),
                     "train: --out " + path("train.tsv") + " would overwrite the input --train");
  EXPECT_EMBER_ERROR(io::check_outputs(in, {{"--out", path("hard.tsv")}}, "train"),
                     "would overwrite the input");
  EXPECT_EMBER_ERROR(io::check_outputs(in, {{"--out", path("soft.tsv")}}, "train"),
                     "would overwrite the input");
  EXPECT_EMBER_ERROR(
      io::check_outputs(in, {{"--out", (dir_ / "." / "train.tsv").string()}}, "train"),
      "would overwrite the input");
  EXPECT_EMBER_ERROR(
      io::check_outputs(in, {{"--out", path("m.svg")}, {"the plot", path("m.svg")}}, "train"),
      "the plot " + path("m.svg") + " is also the output --out");
}

TEST_F(File, SignalRemovesUnfinishedTemporaries) {
  // A child process starts a write and is killed half-way with SIGTERM: the handler installed by
  // remove_temporaries_on_signal() deletes its temporary file, and the destination is untouched.
  const std::string p = path("model.bin");
  put(p, "good model");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    io::remove_temporaries_on_signal();
    io::AtomicFile f(p);
    f.write("half of a new model");
    std::raise(SIGTERM);
    ::_exit(0);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_EQ(slurp(p), "good model");
  EXPECT_EQ(entries(), 1u);
}
