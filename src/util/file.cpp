#include "util/file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "error.hpp"

namespace spfctl::util {

namespace fs = std::filesystem;

namespace {

// The process umask, read without changing it (umask(2) can only set it, and other threads may be
// creating files): from /proc where the kernel shows it, else set and restored once.
mode_t process_umask() {
  static const mode_t mask = [] {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
      if (line.starts_with("Umask:")) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
    const mode_t old = ::umask(022);
    ::umask(old);
    return old;
  }();
  return mask;
}

}  // namespace

std::optional<std::string> read_file(const fs::path& path, std::string& error) {
  std::error_code ignored;
  if (fs::is_directory(path, ignored)) {
    error = "it is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    error = "read error";
    return std::nullopt;
  }
  return std::move(bytes).str();
}

void write_file_atomically(const fs::path& path, std::string_view bytes, const AtomicWrite& options) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string temp = (dir / ("." + path.filename().string() + ".spfctl-XXXXXX")).string();
  const std::string where = "cannot write '" + path.string() + "': ";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0)
    throw Error(where + "cannot create a temporary file in '" + dir.string() + "': " + std::strerror(errno));
  bool open = true;
  auto fail = [&](const std::string& what) {
    const int error = errno;
    if (open) ::close(fd);
    ::unlink(temp.c_str());
    throw Error(where + what + (error ? std::string(": ") + std::strerror(error) : ""));
  };
  struct stat existing {};
  if (options.keep_existing_mode && ::lstat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
    if (::fchmod(fd, existing.st_mode & 07777) != 0) fail("cannot set its permissions");
    [[maybe_unused]] const int ignored = ::fchown(fd, existing.st_uid, existing.st_gid);
  } else {
    if (::fchmod(fd, options.mode & ~process_umask() & 07777) != 0) fail("cannot set its permissions");
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync failed");
  open = false;
  if (::close(fd) != 0) fail("close failed");
  if (options.before_rename) {
    try {
      options.before_rename();
    } catch (...) {
      ::unlink(temp.c_str());
      throw;
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("rename failed");
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

FileLock::FileLock(const fs::path& lock_path, double wait_seconds) {
  m_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (m_fd < 0)
    throw Error("cannot open the lock file '" + lock_path.string() + "': " + std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
  while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const int error = errno;
      ::close(m_fd);
      throw Error("cannot lock '" + lock_path.string() + "': " + std::strerror(error));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(m_fd);
      throw Error("'" + lock_path.string() + "' is still locked by another writer after " +
                  std::to_string(static_cast<int>(wait_seconds)) + " s; try again when it is done");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

FileLock::~FileLock() {
  if (m_fd >= 0) ::close(m_fd);  // closing releases the lock
}

}  // namespace spfctl::util
