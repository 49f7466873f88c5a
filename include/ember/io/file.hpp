// ember/io/file.hpp — reading and writing whole files without losing anyone's data.
// Layer: io (POSIX).
//
//   AtomicFile       writes to a unique temporary file in the destination's directory, created
//                    with O_CREAT | O_EXCL (never through an existing file or link: a symlink
//                    planted at a predictable name cannot redirect the write), and renames it over
//                    the destination only on commit(), after fsync. A failed, abandoned or
//                    interrupted write leaves the destination as it was; the destructor removes
//                    the temporary file, and so does SIGINT/SIGTERM/SIGHUP once
//                    remove_temporaries_on_signal() is installed.
//   read_file        a regular file (not a directory, FIFO or device such as /dev/zero) of at
//                    most `max_bytes`, read in full; errors name the file and the cause.
//   check_outputs    refuses a run whose output would replace one of its inputs (also through a
//                    hard or symbolic link) or another output of the same run.
// Every failure is an ember::Error naming the operation, the file and strerror's reason.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/error.hpp"

namespace ember::io {

namespace detail {

inline std::string errno_text(int e) {
  if (e == ENOSPC) return "no space left on the device (disk full)";
  if (e == EFBIG) return "file too large (disk full or file size limit)";
  return std::strerror(e);
}

// Live temporary files, so a signal handler can remove them. A fixed table of fixed buffers:
// the handler may only call async-signal-safe functions (unlink), and must not allocate.
inline constexpr int kMaxTemporaries = 16;
inline constexpr std::size_t kMaxTempPath = 4096;
struct TempSlot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 holds a live temporary path
  char path[kMaxTempPath] = {};
};
inline TempSlot* temp_slots() {
  static TempSlot slots[kMaxTemporaries];
  return slots;
}
inline int register_temporary(const std::string& path) {
  if (path.size() >= kMaxTempPath) return -1;
  for (int i = 0; i < kMaxTemporaries; ++i) {
    TempSlot& s = temp_slots()[i];
    int expected = 0;
    if (!s.state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.state.store(2, std::memory_order_release);
    return i;
  }
  return -1;  // more than kMaxTemporaries at once: still correct, only not cleaned on a signal
}
inline void unregister_temporary(int slot) {
  if (slot >= 0) temp_slots()[slot].state.store(0, std::memory_order_release);
}

extern "C" inline void ember_remove_temporaries_and_reraise(int sig) {
  for (int i = 0; i < kMaxTemporaries; ++i) {
    TempSlot& s = temp_slots()[i];
    if (s.state.load(std::memory_order_acquire) == 2) ::unlink(s.path);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

/// The process's umask, read without changing it: umask(2) can only be read by setting it,
/// which would race with other threads creating files. Linux reports it in /proc/self/status;
/// elsewhere (or if unreadable) 022 is assumed. Read per file: writes are rare, umasks change.
inline mode_t process_umask() {
  mode_t m = 022;
  if (std::FILE* f = std::fopen("/proc/self/status", "re")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      unsigned v = 0;
      if (std::sscanf(line, "Umask: %o", &v) == 1) {
        m = static_cast<mode_t>(v);
        break;
      }
    }
    std::fclose(f);
  }
  return m;
}

}  // namespace detail

/// Installs SIGINT, SIGTERM and SIGHUP handlers that delete the temporary files of unfinished
/// AtomicFile writes, then end the process as the signal would have. Call once from main().
inline void remove_temporaries_on_signal() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    std::signal(sig, detail::ember_remove_temporaries_and_reraise);
}

/// A file written in full or not at all (see the file comment).
///
///     ember::io::AtomicFile f("model.safetensors");
///     f.write(bytes.data(), bytes.size());
///     f.commit();   // before this, model.safetensors is untouched
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)) {
    namespace fs = std::filesystem;
    EMBER_CHECK(!path_.empty(), "write", "empty output path");
    std::error_code ec;
    if (fs::is_directory(path_, ec)) ember::detail::fail("write: " + path_, "is a directory");
    const fs::path target(path_);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string name = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);  // O_CREAT | O_EXCL, mode 0600
    if (fd_ < 0) {
      ember::detail::fail("write: " + path_, "cannot create a temporary file in ", dir.string(),
                          ": ", detail::errno_text(errno));
    }
    tmp_ = name;
    slot_ = detail::register_temporary(tmp_);
    // mkostemp makes the file 0600; give it the permissions a new file normally gets.
    ::fchmod(fd_, 0666 & ~detail::process_umask());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { abandon(); }

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return tmp_; }

  /// Appends `n` bytes; ember::Error (naming the file and the cause, e.g. a full disk) on failure.
  void write(const void* data, std::size_t n) {
    EMBER_CHECK(fd_ >= 0, "write: " + path_, "the file is already committed or abandoned");
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        abandon();
        ember::detail::fail("write: " + path_, detail::errno_text(e));
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }
  void write(std::string_view s) { write(s.data(), s.size()); }

  /// Flushes to disk and renames the temporary file over the destination.
  void commit() {
    EMBER_CHECK(fd_ >= 0, "write: " + path_, "the file is already committed or abandoned");
    if (::fsync(fd_) != 0 && errno != EINVAL) {
      const int e = errno;
      abandon();
      ember::detail::fail("write: " + path_, detail::errno_text(e));
    }
    if (::close(fd_) != 0) {
      const int e = errno;
      fd_ = -1;
      abandon();
      ember::detail::fail("write: " + path_, detail::errno_text(e));
    }
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      const int e = errno;
      abandon();
      ember::detail::fail("write: " + path_,
                          "cannot rename the finished file into place: ", detail::errno_text(e));
    }
    detail::unregister_temporary(slot_);
    slot_ = -1;
    tmp_.clear();
  }

  /// Closes and deletes the temporary file; the destination stays as it was.
  void abandon() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
    tmp_.clear();
    detail::unregister_temporary(slot_);
    slot_ = -1;
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  int slot_ = -1;
};

/// Writes `bytes` to `path` atomically (AtomicFile).
inline void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

/// The whole of a regular file of at most `max_bytes` (a directory, FIFO or device such as
/// /dev/zero is refused before anything is read).
inline std::string read_file(const std::string& path, std::int64_t max_bytes,
                             std::string_view op = "read") {
  const std::string ctx = std::string(op) + ": " + path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) ember::detail::fail(ctx, "cannot open: ", detail::errno_text(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) ember::detail::fail(ctx, "cannot stat: ", detail::errno_text(errno));
  if (S_ISDIR(st.st_mode)) ember::detail::fail(ctx, "is a directory, not a file");
  if (!S_ISREG(st.st_mode)) {
    ember::detail::fail(ctx, "is not a regular file (a device, FIFO or socket)");
  }
  const std::int64_t size = static_cast<std::int64_t>(st.st_size);
  if (size > max_bytes) {
    ember::detail::fail(ctx, "file of ", size, " bytes exceeds the limit of ", max_bytes, " bytes");
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t at = 0;
  while (at < out.size()) {
    const ssize_t r = ::read(fd, out.data() + at, out.size() - at);
    if (r < 0) {
      if (errno == EINTR) continue;
      ember::detail::fail(ctx, "read error: ", detail::errno_text(errno));
    }
    if (r == 0) break;  // the file shrank while being read: return what it holds now
    at += static_cast<std::size_t>(r);
  }
  out.resize(at);
  return out;
}

/// Whether `a` and `b` name the same file: the same inode if both exist (hard and symbolic
/// links included), else the same normalised absolute path.
inline bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    const bool eq = fs::equivalent(a, b, ec);
    if (!ec) return eq;
  }
  const fs::path pa = fs::weakly_canonical(fs::absolute(a, ec), ec);
  const fs::path pb = fs::weakly_canonical(fs::absolute(b, ec), ec);
  return pa == pb;
}

/// ember::Error if an output would replace an input or another output. Entries are
/// (what, path) pairs such as {"--out", "model.safetensors"}; empty paths are ignored.
inline void check_outputs(const std::vector<std::pair<std::string, std::string>>& inputs,
                          const std::vector<std::pair<std::string, std::string>>& outputs,
                          std::string_view op) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [oname, opath] = outputs[i];
    if (opath.empty()) continue;
    for (const auto& [iname, ipath] : inputs) {
      if (!ipath.empty() && same_file(opath, ipath)) {
        ember::detail::fail(op, oname, " ", opath, " would overwrite the input ", iname, " ", ipath,
                            "; choose another output path");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      const auto& [pname, ppath] = outputs[j];
      if (!ppath.empty() && same_file(opath, ppath)) {
        ember::detail::fail(op, oname, " ", opath, " is also the output ", pname,
                            "; choose another output path");
      }
    }
  }
}

}  // namespace ember::io
