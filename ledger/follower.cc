// The follower threads of a serve node (follower.h, docs/replicated-log.md "Serve nodes").
#include "ledger/follower.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace hourbank::ledger {

Follower::Follower(const NatsLog& nats, FollowStore& store) : nats_(nats), store_(store) {
  for (uint32_t p = 0; p < nats_.partitions(); ++p) parts_.push_back(std::make_unique<Part>());
}

Follower::~Follower() {
  stopping_.store(true);
  for (auto& part : parts_) {
    std::lock_guard<std::mutex> l(part->mu);
    part->cv.notify_all();
  }
  for (auto& t : threads_) t.join();
}

Status Follower::Start() {
  for (uint32_t p = 0; p < parts_.size(); ++p) {
    auto applied = store_.AppliedSeq(p);
    if (!applied.ok()) return applied.error();
    parts_[p]->applied = applied.value();
    std::fprintf(stderr, "hourbank serve: following %s from applied seq %llu\n",
                 nats_.StreamName(p).c_str(), static_cast<unsigned long long>(applied.value()));
  }
  std::fflush(stderr);
  for (uint32_t p = 0; p < parts_.size(); ++p) threads_.emplace_back([this, p] { Run(p); });
  return Status::Ok();
}

void Follower::Run(uint32_t p) {
  int64_t backoff_ms = kPollMs;
  while (!stopping_.load()) {
    auto applied = Step(p);
    if (!applied.ok()) {
      const bool fatal = applied.error().code == Code::kCorruption;
      Fail(p, applied.error(), fatal);
      if (fatal) return;
      Sleep(p, backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, kRetryMaxMs);
      continue;
    }
    backoff_ms = kPollMs;
    if (!applied.value()) Sleep(p, kPollMs);
  }
}

Result<bool> Follower::Step(uint32_t p) {
  Part& part = *parts_[p];
  auto last = nats_.LastStreamSeq(p);
  if (!last.ok()) return last.error();
  uint64_t applied = 0;
  {
    std::lock_guard<std::mutex> l(part.mu);
    part.last = std::max(part.last, last.value());
    part.error.clear();  // the stream answers again
    applied = part.applied;
  }
  if (applied > last.value()) {
    // Retried, not fatal: a leader elected a moment ago may not have applied all it holds yet.
    return Error::Io(fmt::format(
        "{} ends at seq {} but this node's store applied up to {}: if it stays so, the ledger on "
        "the cluster is not the one the store followed (made again?); stop the node and delete "
        "its --store",
        nats_.StreamName(p), last.value(), applied));
  }
  if (applied == last.value()) return false;
  const uint64_t to = std::min<uint64_t>(last.value(), applied + kBatchMessages);
  std::vector<NatsLog::Message> batch = ReadBatched(p, applied, last.value() - applied);
  const bool direct = batch.empty();  // not catching up, or the batched reader failed
  for (uint64_t s = applied + 1; direct && s <= to && !stopping_.load(); ++s) {
    auto m = nats_.GetMessage(p, s, nullptr);
    if (!m.ok()) {
      if (batch.empty()) return m.error();
      break;  // apply what was read; the next round retries the rest
    }
    if (!m.value()) return Missing(p, s, last.value());
    batch.push_back(std::move(*m.value()));
  }
  if (batch.empty()) return false;
  HB_TRY(store_.Apply(p, batch, nats_.options().batch_events_max));
  {
    std::lock_guard<std::mutex> l(part.mu);
    part.applied = batch.back().stream_seq;
  }
  part.cv.notify_all();
  return true;
}

std::vector<NatsLog::Message> Follower::ReadBatched(uint32_t p, uint64_t applied, uint64_t count) {
  Part& part = *parts_[p];
  if (count < kBatchedLagMin) {
    part.reader.reset();  // caught up: one get per new message costs no more
    return {};
  }
  if (part.reader && part.reader_next != applied + 1) part.reader.reset();
  if (!part.reader) {
    if (std::chrono::steady_clock::now() < part.batched_retry_at) return {};
    auto r = nats_.OpenBatchReader(p, applied + 1);
    if (!r.ok()) {
      BatchedFailed(p, r.error());
      return {};
    }
    part.reader = std::move(r).value();
    part.reader_next = applied + 1;
  }
  auto got = part.reader->Next(std::min<uint64_t>(count, kBatchMessages));
  if (!got.ok()) {
    BatchedFailed(p, got.error());
    return {};
  }
  std::vector<NatsLog::Message> out;
  for (NatsLog::Message& m : got.value()) {
    if (m.stream_seq != part.reader_next) {
      part.reader.reset();  // not the next seq: the direct reads decide (a gap, a retry)
      break;
    }
    ++part.reader_next;
    out.push_back(std::move(m));
  }
  return out;
}

void Follower::BatchedFailed(uint32_t p, const Error& e) {
  Part& part = *parts_[p];
  part.reader.reset();
  part.batched_retry_at =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kBatchedRetryMs);
  std::fprintf(stderr,
               "hourbank serve: batched reads of %s failed (%s); reading message by message\n",
               nats_.StreamName(p).c_str(), e.message.c_str());
  std::fflush(stderr);
}

Error Follower::Missing(uint32_t p, uint64_t stream_seq, uint64_t last) {
  Part& part = *parts_[p];  // missing_*: this partition's thread only
  const auto now = std::chrono::steady_clock::now();
  if (part.missing_seq != stream_seq) {
    part.missing_seq = stream_seq;
    part.missing_since = now;
  }
  const std::string what = fmt::format("message {} of {} is missing (the stream's last is {})",
                                       stream_seq, nats_.StreamName(p), last);
  if (now - part.missing_since > std::chrono::milliseconds(kMissingFatalMs))
    return Error::Corruption(what, NatsPosition(p, stream_seq, 0));
  return Error::Io(what + "; retrying");
}

void Follower::Fail(uint32_t p, const Error& e, bool fatal) {
  Part& part = *parts_[p];
  bool changed = false;
  {
    std::lock_guard<std::mutex> l(part.mu);
    changed = part.error != e.message || fatal;
    part.error = e.message;
    part.stopped = fatal;
  }
  part.cv.notify_all();
  if (!changed) return;
  std::fprintf(stderr, "hourbank serve: follower of %s %s: %s\n", nats_.StreamName(p).c_str(),
               fatal ? "stopped (the stream does not continue the store's chain; run `hourbank "
                       "audit` on the cluster)"
                     : "retrying",
               e.message.c_str());
  std::fflush(stderr);
}

void Follower::Sleep(uint32_t p, int64_t ms) {
  Part& part = *parts_[p];
  std::unique_lock<std::mutex> l(part.mu);
  part.cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return stopping_.load(); });
}

bool Follower::WaitApplied(uint32_t p, uint64_t stream_seq, int64_t timeout_ms) const {
  if (p >= parts_.size()) return false;
  const Part& part = *parts_[p];
  std::unique_lock<std::mutex> l(part.mu);
  return part.cv.wait_for(l, std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0)), [&] {
    return part.applied >= stream_seq || part.stopped || stopping_.load();
  }) && part.applied >= stream_seq;
}

std::vector<FollowStatus> Follower::Snapshot() const {
  std::vector<FollowStatus> out;
  for (uint32_t p = 0; p < parts_.size(); ++p) {
    const Part& part = *parts_[p];
    std::lock_guard<std::mutex> l(part.mu);
    out.push_back(FollowStatus{nats_.StreamName(p), part.applied, std::max(part.last, part.applied),
                               part.stopped, part.error});
  }
  return out;
}

}  // namespace hourbank::ledger
