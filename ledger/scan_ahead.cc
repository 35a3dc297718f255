#include "ledger/scan_ahead.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ledger/log_impl.h"

namespace hourbank::ledger {

Status CheckScanKey(std::string_view key, uint64_t expected) {
  auto seq = format::ParseSeq(key);
  if (!seq) return Error::Corruption("a key in the events column family is not 8 bytes", expected);
  if (*seq != expected) {
    return Error::Corruption(fmt::format("event {} is missing: the log jumps from {} to {}",
                                         expected, expected - 1, *seq),
                             expected);
  }
  return Status::Ok();
}

Error ScanEndedEarly(uint64_t expected, uint64_t head) {
  return Error::Corruption(fmt::format("event {} is missing: the head is {} but the log ends at {}",
                                       expected, head, expected - 1),
                           expected);
}

namespace {

// Consecutive events' values, each at a word boundary of `words`.
struct Chunk {
  struct Span {
    uint64_t seq;
    size_t word_offset;
    size_t bytes;
  };
  std::unique_ptr<uint64_t[]> words;  // not initialised: only the spans' bytes are read
  size_t capacity_words = 0;
  size_t used_words = 0;
  std::vector<Span> spans;
  std::optional<Error> error;  // the reader stopped here, after the spans
  bool end = false;            // the reader's last chunk

  explicit Chunk(size_t capacity) : words(new uint64_t[capacity]), capacity_words(capacity) {
    spans.reserve(kAheadChunkEvents);
  }
  bool Fits(size_t w) const {
    return spans.size() < kAheadChunkEvents && used_words + w <= capacity_words;
  }
  void Clear() {
    used_words = 0;
    spans.clear();
    error.reset();
    end = false;
  }
};

// The hand-off between the reader thread and the visiting thread.
class Pipe {
 public:
  // Reader: an empty chunk for at least `w` words; nullptr once the visitor has stopped.
  std::unique_ptr<Chunk> Take(size_t w) {
    std::unique_lock<std::mutex> l(mu_);
    can_fill_.wait(l, [&] { return stopped_ || full_.size() < kAheadChunksMax; });
    if (stopped_) return nullptr;
    const size_t want = std::max(w, kAheadChunkBytes / sizeof(uint64_t));
    if (!free_.empty() && free_.back()->capacity_words >= want) {
      std::unique_ptr<Chunk> c = std::move(free_.back());
      free_.pop_back();
      c->Clear();
      return c;
    }
    l.unlock();
    return std::make_unique<Chunk>(want);
  }
  // Reader: hands a filled chunk to the visitor.
  void Push(std::unique_ptr<Chunk> c) {
    {
      std::lock_guard<std::mutex> l(mu_);
      full_.push_back(std::move(c));
    }
    can_visit_.notify_one();
  }
  // Visitor: the next filled chunk, waiting for it.
  std::unique_ptr<Chunk> Pop() {
    std::unique_lock<std::mutex> l(mu_);
    can_visit_.wait(l, [&] { return !full_.empty(); });
    std::unique_ptr<Chunk> c = std::move(full_.front());
    full_.pop_front();
    l.unlock();
    can_fill_.notify_one();
    return c;
  }
  // Visitor: a visited chunk, for reuse.
  void Recycle(std::unique_ptr<Chunk> c) {
    std::lock_guard<std::mutex> l(mu_);
    if (free_.size() < kAheadChunksMax) free_.push_back(std::move(c));
  }
  // Visitor: no more chunks wanted; the reader ends at its next Take.
  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopped_ = true;
    }
    can_fill_.notify_all();
  }
  bool stopped() const {
    std::lock_guard<std::mutex> l(mu_);
    return stopped_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable can_fill_, can_visit_;
  std::deque<std::unique_ptr<Chunk>> full_;  // <= kAheadChunksMax
  std::vector<std::unique_ptr<Chunk>> free_;  // <= kAheadChunksMax
  bool stopped_ = false;
};

// The reader thread's whole work. Always ends with a chunk marked `end` unless stopped.
void ReadAhead(rocksdb::Iterator* it, uint64_t first, uint64_t last, Pipe* pipe) {
  const NoPerfCounts no_perf_counts;  // per thread: this one reads
  std::unique_ptr<Chunk> c = pipe->Take(0);
  if (c == nullptr) return;
  uint64_t expected = first;
  // Bounded: one step per event up to `last`.
  for (it->Seek(format::SeqKey(first)); it->Valid() && expected <= last; it->Next()) {
    if (Status s = CheckScanKey(ToView(it->key()), expected); !s.ok()) {
      c->error = s.error();
      break;
    }
    const rocksdb::Slice v = it->value();
    const size_t w = (v.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t);
    if (!c->Fits(w)) {
      pipe->Push(std::move(c));
      c = pipe->Take(w);
      if (c == nullptr) return;
    }
    std::memcpy(c->words.get() + c->used_words, v.data(), v.size());
    c->spans.push_back({expected, c->used_words, v.size()});
    c->used_words += w;
    ++expected;
  }
  if (!c->error && !it->status().ok()) {
    c->error = FromRocks(it->status(), "cannot scan the events");
  }
  c->end = true;
  pipe->Push(std::move(c));
}

}  // namespace

Status ScanAhead(rocksdb::Iterator* it, uint64_t first, uint64_t last, uint64_t head,
                 kj::FunctionParam<Status(uint64_t seq, std::string_view bytes, bool* stop)> visit) {
  Pipe pipe;
  std::thread reader(ReadAhead, it, first, last, &pipe);
  struct Join {  // on every return: release the reader (it may wait for room) and wait for it
    Pipe& pipe;
    std::thread& t;
    ~Join() {
      pipe.Stop();
      t.join();
    }
  } join{pipe, reader};

  uint64_t expected = first;
  bool stop = false;
  // Bounded: the reader ends after at most (last - first + 1) events and one `end` chunk.
  for (;;) {
    std::unique_ptr<Chunk> c = pipe.Pop();
    for (const Chunk::Span& s : c->spans) {
      const std::string_view bytes(reinterpret_cast<const char*>(c->words.get() + s.word_offset),
                                   s.bytes);
      HB_TRY(visit(s.seq, bytes, &stop));
      if (stop) return Status::Ok();
      expected = s.seq + 1;
    }
    if (c->error) return *c->error;
    if (c->end) break;
    pipe.Recycle(std::move(c));
  }
  if (expected <= last) return ScanEndedEarly(expected, head);
  return Status::Ok();
}

}  // namespace hourbank::ledger
