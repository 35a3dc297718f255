// A progress bar on stderr for long operations (rebuild, import, close --all, audit).
// Drawn only when stderr is a terminal (and never with --json): piped output stays clean.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace hourbank::cli {

class Progress {
 public:
  Progress(std::string label, uint64_t total, bool quiet = false)
      : label_(std::move(label)), total_(total), enabled_(!quiet && isatty(STDERR_FILENO) != 0) {}
  ~Progress() { Done(); }
  void Step(uint64_t n = 1) { Set(done_ + n); }
  void Set(uint64_t done) {
    done_ = done;
    if (!enabled_) return;
    const uint64_t percent = total_ ? done_ * 100 / total_ : 100;
    if (percent == last_percent_) return;
    last_percent_ = percent;
    const int filled = int(percent / 4);
    std::fprintf(stderr, "\r%s [%s%s] %3llu%% %llu/%llu", label_.c_str(),
                 std::string(filled, '#').c_str(), std::string(25 - filled, ' ').c_str(),
                 static_cast<unsigned long long>(percent), static_cast<unsigned long long>(done_),
                 static_cast<unsigned long long>(total_));
    std::fflush(stderr);
    drawn_ = true;
  }
  // A line of output that should not be overdrawn by the bar.
  void Note(const std::string& line) {
    if (drawn_) std::fputs("\r\033[K", stderr);
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
    last_percent_ = UINT64_MAX;
  }
  void Done() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

 private:
  std::string label_;
  uint64_t total_ = 0, done_ = 0, last_percent_ = UINT64_MAX;
  bool enabled_ = false, drawn_ = false;
};

}  // namespace hourbank::cli
