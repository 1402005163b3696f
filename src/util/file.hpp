// Whole files read and written, knowing nothing of what they hold: configuration, zone files and
// plan files all go through here.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace spfctl::util {

// The bytes of `path`; nullopt with `error` saying why not ("No such file or directory", "it is a
// directory", "read error").
std::optional<std::string> read_file(const std::filesystem::path& path, std::string& error);

struct AtomicWrite {
  // Permissions of the file written, before the process umask is applied.
  mode_t mode = 0600;
  // Keep the permissions (and, where allowed, the owner) of the file being replaced instead.
  bool keep_existing_mode = false;
  // Called once the new bytes are safely in the temporary file, just before it replaces `path`;
  // when it throws, nothing is replaced and the exception goes on.
  std::function<void()> before_rename;
};

// Replaces `path` with `bytes` so that a reader (or a crash) sees the old file or the new one,
// never half of one: a temporary file in the same directory, written, synced, renamed over `path`,
// and the directory synced. A symbolic link at `path` is replaced itself, never written through.
// Throws spfctl::Error naming `path` and what failed; the temporary file is removed then.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                           const AtomicWrite& options = {});

// An exclusive advisory lock (flock(2)) on a lock file, created if missing and never removed;
// released when the object goes away. Other programs take the same lock with flock(1).
class FileLock {
 public:
  // Waits up to `wait_seconds` for the lock; throws spfctl::Error when it is still held then, or
  // when the lock file cannot be opened.
  FileLock(const std::filesystem::path& lock_path, double wait_seconds);
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  int m_fd = -1;
};

}  // namespace spfctl::util
