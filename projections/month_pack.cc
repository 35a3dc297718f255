#include "projections/month_pack.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace hourbank::projections {

namespace {

// Unsigned LEB128; signed values zig-zag first, so small negatives stay short. A Writer and a
// Reader share the one description of the fields below (EvalFields), so the two directions
// cannot disagree on the order.
class Writer {
 public:
  template <typename T>
  void operator()(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      Unsigned(v.size());
      out_ += v;
    } else if constexpr (std::is_signed_v<T>) {
      Unsigned((uint64_t(v) << 1) ^ uint64_t(int64_t(v) >> 63));
    } else {
      Unsigned(uint64_t(v));
    }
  }
  template <typename V, typename Fn>
  void List(const V& items, size_t /*min_bytes*/, Fn&& fn) {
    Unsigned(items.size());
    for (const auto& item : items) fn(*this, item);
  }
  std::string Take() {
    out_.shrink_to_fit();
    return std::move(out_);
  }

 private:
  void Unsigned(uint64_t v) {
    while (v >= 0x80) {
      out_ += char(uint8_t(v) | 0x80);
      v >>= 7;
    }
    out_ += char(uint8_t(v));
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  void operator()(T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      const uint64_t n = Unsigned();  // read before measuring what is left
      const size_t take = size_t(std::min<uint64_t>(n, in_.size() - pos_));
      v.assign(in_.substr(pos_, take));
      pos_ += take;
    } else if constexpr (std::is_same_v<T, bool>) {
      v = Unsigned() != 0;
    } else if constexpr (std::is_signed_v<T>) {
      const uint64_t z = Unsigned();
      v = T(int64_t(z >> 1) ^ -int64_t(z & 1));
    } else {
      v = T(Unsigned());
    }
  }
  // A list of records of at least `min_bytes` each: never more than the bytes left can hold.
  template <typename V, typename Fn>
  void List(V& items, size_t min_bytes, Fn&& fn) {
    const uint64_t count = Unsigned();  // read before measuring what is left
    const uint64_t n = std::min<uint64_t>(count, (in_.size() - pos_) / min_bytes);
    for (uint64_t i = 0; i < n; ++i) fn(*this, items.emplace_back());
  }

 private:
  uint64_t Unsigned() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < in_.size(); shift += 7) {
      const uint8_t b = uint8_t(in_[pos_++]);
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    pos_ = in_.size();  // truncated or over-long: the rest reads as zero
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

// Every field of a MonthEval, in packing order. `E` is MonthEval (reading) or const MonthEval.
template <typename Io, typename E>
void EvalFields(Io& io, E& e) {
  io(e.month);
  io(e.in_contract);
  io(e.trial);
  io(e.closed);
  for (auto* v : {&e.included_minutes, &e.allowance_used_minutes, &e.reserve_start_minutes,
                  &e.reserve_used_minutes, &e.blocks_start_minutes, &e.block_used_minutes,
                  &e.overage_minutes, &e.unlimited_minutes, &e.used_minutes, &e.pending_minutes,
                  &e.pending_entries, &e.carried_minutes, &e.expired_allowance_minutes,
                  &e.expired_reserve_minutes, &e.expired_block_minutes, &e.reserve_end_minutes})
    io(*v);
  io.List(e.expired_blocks, 2, [](Io& io, auto& x) {
    io(x.first);
    io(x.second);
  });
  io.List(e.blocks_end, 6, [](Io& io, auto& b) {
    io(b.seq);
    io(b.minutes);
    io(b.left_minutes);
    io(b.expires_at_us);
    io(b.expires_month);
    io(b.month);
  });
  io(e.invoice.month);
  io(e.invoice.closed);
  io(e.invoice.total_minor);
  io.List(e.invoice.lines, 5, [](Io& io, auto& l) {
    io(l.code);
    io(l.description);
    io(l.quantity);
    io(l.unit_price_minor);
    io(l.amount_minor);
  });
}

// The pool map is packed as a list of (pool, quota, used).
struct PoolRow {
  std::string pool;
  PoolUsage usage;
};
template <typename Io, typename Rows>
void PoolFields(Io& io, Rows& rows) {
  io.List(rows, 3, [](Io& io, auto& r) {
    io(r.pool);
    io(r.usage.quota);
    io(r.usage.used);
  });
}

}  // namespace

std::string PackMonthEval(const MonthEval& e) {
  Writer w;
  EvalFields(w, e);
  std::vector<PoolRow> pools;
  for (const auto& [pool, usage] : e.pools) pools.push_back({pool, usage});
  PoolFields(w, pools);
  return w.Take();
}

MonthEval UnpackMonthEval(std::string_view packed) {
  Reader r(packed);
  MonthEval e;
  EvalFields(r, e);
  std::vector<PoolRow> pools;
  PoolFields(r, pools);
  for (PoolRow& row : pools) e.pools[std::move(row.pool)] = row.usage;
  return e;
}

}  // namespace hourbank::projections
