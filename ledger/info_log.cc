#include "ledger/info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

namespace hourbank::ledger {

namespace {

constexpr size_t kLineBytesMax = 64 * 1024;  // a longer message is cut (RocksDB's own bound)

// "2026/12/02-15:04:05.123456 1a2b " in UTC, as RocksDB's own logger starts a line.
std::string LinePrefix() {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  std::tm t{};
  const time_t seconds = now.tv_sec;
  ::gmtime_r(&seconds, &t);
  return fmt::format("{:04}/{:02}/{:02}-{:02}:{:02}:{:02}.{:06} {:x} ", t.tm_year + 1900,
                     t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                     static_cast<long>(now.tv_usec), static_cast<long>(::syscall(SYS_gettid)));
}

// The message of a printf-style format, at most kLineBytesMax bytes.
std::string Format(const char* format, va_list ap) {
  char small[1024];
  va_list again;
  va_copy(again, ap);
  const int n = std::vsnprintf(small, sizeof small, format, ap);
  std::string out;
  if (n < 0) {
    out = "(a log line that could not be formatted)";
  } else if (static_cast<size_t>(n) < sizeof small) {
    out.assign(small, static_cast<size_t>(n));
  } else {
    out.resize(std::min<size_t>(static_cast<size_t>(n), kLineBytesMax) + 1);
    const int m = std::vsnprintf(out.data(), out.size(), format, again);
    out.resize(m < 0 ? 0 : std::min<size_t>(static_cast<size_t>(m), out.size() - 1));
  }
  va_end(again);
  return out;
}

int64_t NowMicros() {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  return static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_usec;
}

}  // namespace

InfoLog::InfoLog(std::string path, uint64_t bytes_max)
    : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL),
      path_(std::move(path)),
      bytes_max_(bytes_max) {
  std::lock_guard<std::mutex> l(mu_);
  EnsureOpenLocked();
}

InfoLog::~InfoLog() {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

rocksdb::Status InfoLog::CloseImpl() {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return rocksdb::Status::OK();
}

size_t InfoLog::GetLogFileSize() const {
  std::lock_guard<std::mutex> l(mu_);
  return size_;
}

uint64_t InfoLog::dropped() const {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

// REQUIRES: mu_ held. Opens (or reopens after a failure) the file; false if it cannot.
bool InfoLog::EnsureOpenLocked() {
  if (fd_ >= 0) return true;
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd_ < 0) {
    last_error_ = std::strerror(errno);
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

// REQUIRES: mu_ held. Renames the full file aside, removes the oldest rotated ones, and starts
// a new file. Every step is best effort: a failure leaves logging to the old file.
void InfoLog::RotateLocked() {
  namespace fs = std::filesystem;
  const std::string rotated = fmt::format("{}.old.{}", path_, NowMicros());
  if (::rename(path_.c_str(), rotated.c_str()) != 0) return;
  ::close(fd_);
  fd_ = -1;
  const fs::path file(path_);
  const std::string prefix = file.filename().string() + ".old.";
  std::vector<std::string> old;
  std::error_code ec;
  fs::directory_iterator it(file.parent_path(), ec);
  // Bounded: one step per entry of the ledger directory.
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0) old.push_back(it->path().string());
  }
  std::sort(old.begin(), old.end());  // same-width µs suffixes: oldest first
  for (size_t i = 0; i + kInfoLogFilesKept < old.size(); ++i) fs::remove(old[i], ec);
  EnsureOpenLocked();
}

// REQUIRES: mu_ held. The whole line, or false with last_error_ set.
bool InfoLog::WriteLocked(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      last_error_ = n < 0 ? std::strerror(errno) : "nothing written";
      return false;
    }
    done += static_cast<size_t>(n);
  }
  size_ += line.size();
  return true;
}

void InfoLog::Logv(const char* format, va_list ap) {
  std::string line = LinePrefix() + Format(format, ap);
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  std::lock_guard<std::mutex> l(mu_);
  if (!EnsureOpenLocked()) {
    ++dropped_;
    return;
  }
  if (size_ >= bytes_max_) RotateLocked();
  if (fd_ < 0) {
    ++dropped_;
    return;
  }
  if (dropped_ > 0) {
    const std::string note = fmt::format("{}[hourbank] {} info log line(s) not written: {}\n",
                                         LinePrefix(), dropped_, last_error_);
    if (!WriteLocked(note)) {
      ++dropped_;
      return;
    }
    dropped_ = 0;
  }
  if (!WriteLocked(line)) ++dropped_;
}

}  // namespace hourbank::ledger
