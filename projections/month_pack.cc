#include "projections/month_pack.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "projections/state.h"

namespace hourbank::projections {

namespace {

// Unsigned LEB128; signed values zig-zag first, so small negatives stay short. A Writer and a
// Reader share the one description of the fields below (EvalFields, CloseFields), so the two
// directions cannot disagree on the order.
//
// A text is its length and bytes; with a pool (ClosedMonths) it is (offset in the pool << 1 | 1),
// or (length << 1) and its bytes when the pool is full.
using InternFn = std::function<uint32_t(std::string_view)>;       // UINT32_MAX: not pooled
using TextFn = std::function<std::string_view(uint64_t offset)>;  // empty when out of range

class Writer {
 public:
  explicit Writer(const InternFn* intern = nullptr) : intern_(intern) {}
  template <typename T>
  void operator()(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (intern_ == nullptr) {
        Unsigned(v.size());
        out_ += v;
      } else if (const uint32_t at = (*intern_)(v); at != UINT32_MAX) {
        Unsigned((uint64_t(at) << 1) | 1);
      } else {
        Unsigned(uint64_t(v.size()) << 1);
        out_ += v;
      }
    } else if constexpr (std::is_same_v<T, std::array<uint8_t, 32>>) {
      out_.append(reinterpret_cast<const char*>(v.data()), v.size());
    } else if constexpr (std::is_enum_v<T>) {
      Unsigned(uint64_t(v));
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
  const InternFn* intern_;
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in, const TextFn* text = nullptr) : in_(in), text_(text) {}
  template <typename T>
  void operator()(T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      uint64_t n = Unsigned();  // read before measuring what is left
      if (text_ != nullptr) {
        if (n & 1) {
          v.assign((*text_)(n >> 1));
          return;
        }
        n >>= 1;
      }
      const size_t take = size_t(std::min<uint64_t>(n, in_.size() - pos_));
      v.assign(in_.substr(pos_, take));
      pos_ += take;
    } else if constexpr (std::is_same_v<T, std::array<uint8_t, 32>>) {
      v = {};
      const size_t take = std::min(v.size(), in_.size() - pos_);
      std::memcpy(v.data(), in_.data() + pos_, take);
      pos_ += take;
    } else if constexpr (std::is_enum_v<T>) {
      v = T(Unsigned());
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
  const TextFn* text_;
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

// A recorded close: its total first (CloseTotalAt reads only that), then the rest.
struct SlotRow {
  std::string pool;
  uint32_t slots = 0;
};
template <typename Io, typename C, typename Slots>
void CloseFields(Io& io, C& c, Slots& slots) {
  io(c.total_minor);
  io(c.carried_minutes);
  io(c.reserve_after_minutes);
  io.List(c.expired, 3, [](Io& io, auto& x) {
    io(std::get<0>(x));
    io(std::get<1>(x));
    io(std::get<2>(x));
  });
  io.List(slots, 2, [](Io& io, auto& r) {
    io(r.pool);
    io(r.slots);
  });
  io(c.lines_digest);
  io(c.line_count);
  io(c.closed_seq);
}

std::string Pack(const MonthEval& e, const InternFn* intern) {
  Writer w(intern);
  EvalFields(w, e);
  std::vector<PoolRow> pools;
  for (const auto& [pool, usage] : e.pools) pools.push_back({pool, usage});
  PoolFields(w, pools);
  return w.Take();
}

MonthEval Unpack(std::string_view packed, const TextFn* text) {
  Reader r(packed, text);
  MonthEval e;
  EvalFields(r, e);
  std::vector<PoolRow> pools;
  PoolFields(r, pools);
  for (PoolRow& row : pools) e.pools[std::move(row.pool)] = row.usage;
  return e;
}

// Vectors grow by an eighth, not double: a client's arena is most of its closed months' memory,
// and a doubled capacity would leave a quarter of it unused on average.
template <typename V>
void MakeRoom(V& v, size_t more) {
  const size_t need = v.size() + more;
  if (need > v.capacity()) v.reserve(need + need / 8 + 16);
}

uint64_t TextHash(std::string_view t) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : t) h = (h ^ uint8_t(c)) * 0x100000001b3ULL;
  return h;
}

constexpr size_t kTextsMax = size_t(1) << 31;  // offsets fit the 31 bits a text reference has

}  // namespace

std::string PackMonthEval(const MonthEval& e) { return Pack(e, nullptr); }

MonthEval UnpackMonthEval(std::string_view packed) { return Unpack(packed, nullptr); }

std::string_view ClosedMonths::Text(uint64_t offset) const {
  if (offset >= texts_.size()) return {};
  uint64_t n = 0;  // the varint length, then the bytes (cut at the end of the pool)
  size_t pos = size_t(offset);
  for (int shift = 0; shift < 64 && pos < texts_.size(); shift += 7) {
    const uint8_t b = uint8_t(texts_[pos++]);
    n |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  return std::string_view(texts_.data() + pos, size_t(std::min<uint64_t>(n, texts_.size() - pos)));
}

uint32_t ClosedMonths::Intern(std::string_view text) {
  if (lookup_.empty() || (text_count_ + 1) * 2 > lookup_.size()) {  // grow: at most half full
    std::vector<uint32_t> bigger(lookup_.empty() ? 64 : lookup_.size() * 2, 0);
    for (uint32_t at : lookup_) {
      if (at == 0) continue;
      size_t i = TextHash(Text(at - 1)) & (bigger.size() - 1);
      while (bigger[i] != 0) i = (i + 1) & (bigger.size() - 1);
      bigger[i] = at;
    }
    lookup_ = std::move(bigger);
  }
  size_t i = TextHash(text) & (lookup_.size() - 1);
  for (; lookup_[i] != 0; i = (i + 1) & (lookup_.size() - 1))
    if (Text(lookup_[i] - 1) == text) return lookup_[i] - 1;
  if (texts_.size() + text.size() + 10 >= kTextsMax) return UINT32_MAX;  // kept inline
  const uint32_t at = uint32_t(texts_.size());
  Writer w;
  w(std::string(text));
  const std::string bytes = w.Take();
  MakeRoom(texts_, bytes.size());
  texts_.insert(texts_.end(), bytes.begin(), bytes.end());
  lookup_[i] = at + 1;
  ++text_count_;
  return at;
}

std::string ClosedMonths::PackEval(const MonthEval& eval) {
  const InternFn intern = [this](std::string_view t) { return Intern(t); };
  return Pack(eval, &intern);
}

std::string ClosedMonths::PackClose(const RecordedClose& close) {
  const InternFn intern = [this](std::string_view t) { return Intern(t); };
  Writer w(&intern);
  std::vector<SlotRow> slots;
  for (const auto& [pool, n] : close.slots_expired) slots.push_back({pool, n});
  CloseFields(w, close, slots);
  return w.Take();
}

size_t ClosedMonths::Find(uint32_t month) const {
  const auto it = std::lower_bound(index_.begin(), index_.end(), month,
                                   [](const Slot& s, uint32_t m) { return s.month < m; });
  return it != index_.end() && it->month == month ? size_t(it - index_.begin()) : index_.size();
}

ClosedMonths::Slot& ClosedMonths::SlotFor(uint32_t month) {
  if (index_.empty() || index_.back().month < month) {  // months close in order: append
    MakeRoom(index_, 1);
    return index_.emplace_back(Slot{.month = month});
  }
  const auto it = std::lower_bound(index_.begin(), index_.end(), month,
                                   [](const Slot& s, uint32_t m) { return s.month < m; });
  if (it != index_.end() && it->month == month) return *it;
  const size_t at = size_t(it - index_.begin());
  MakeRoom(index_, 1);
  return *index_.insert(index_.begin() + ptrdiff_t(at), Slot{.month = month});
}

void ClosedMonths::Store(Slot& slot, std::string_view eval, std::string_view close) {
  const size_t old = size_t(slot.eval_bytes) + slot.close_bytes;
  if (old != 0 && size_t(slot.offset) + old == bytes_.size())
    bytes_.resize(slot.offset);  // the last stored (a month's re-evaluation): in place
  else
    garbage_ += old;
  const size_t size = eval.size() + close.size();
  if (bytes_.size() + size > UINT32_MAX) throw std::length_error("closed months exceed 4 GiB");
  MakeRoom(bytes_, size);
  slot.offset = uint32_t(bytes_.size());
  slot.eval_bytes = uint32_t(eval.size());
  slot.close_bytes = uint32_t(close.size());
  bytes_.insert(bytes_.end(), eval.begin(), eval.end());
  bytes_.insert(bytes_.end(), close.begin(), close.end());
  if (garbage_ > 4096 && garbage_ * 2 > bytes_.size()) Compact();
}

void ClosedMonths::Compact() {
  std::vector<char> bytes;
  bytes.reserve(bytes_.size() - garbage_);
  for (Slot& s : index_) {
    const auto from = bytes_.begin() + ptrdiff_t(s.offset);
    const uint32_t at = uint32_t(bytes.size());
    bytes.insert(bytes.end(), from, from + ptrdiff_t(s.eval_bytes) + s.close_bytes);
    s.offset = at;
  }
  bytes_ = std::move(bytes);
  garbage_ = 0;
}

void ClosedMonths::PutEval(uint32_t month, const MonthEval& eval) {
  const std::string packed = PackEval(eval);
  Slot& slot = SlotFor(month);
  const std::string close(std::string_view(bytes_.data(), bytes_.size())
                              .substr(slot.offset + slot.eval_bytes, slot.close_bytes));
  Store(slot, packed, close);
}

void ClosedMonths::PutClose(uint32_t month, const RecordedClose& rc) {
  const std::string packed = PackClose(rc);
  Slot& slot = SlotFor(month);
  const std::string eval(
      std::string_view(bytes_.data(), bytes_.size()).substr(slot.offset, slot.eval_bytes));
  Store(slot, eval, packed);
}

MonthEval ClosedMonths::EvalAt(size_t i) const {
  const TextFn text = [this](uint64_t at) { return Text(at); };
  return Unpack(std::string_view(bytes_.data() + index_[i].offset, index_[i].eval_bytes), &text);
}

RecordedClose ClosedMonths::CloseAt(size_t i) const {
  const TextFn text = [this](uint64_t at) { return Text(at); };
  const Slot& s = index_[i];
  Reader r(std::string_view(bytes_.data() + s.offset + s.eval_bytes, s.close_bytes), &text);
  RecordedClose rc;
  std::vector<SlotRow> slots;
  CloseFields(r, rc, slots);
  for (SlotRow& row : slots) rc.slots_expired[std::move(row.pool)] = row.slots;
  return rc;
}

int64_t ClosedMonths::CloseTotalAt(size_t i) const {
  const Slot& s = index_[i];
  Reader r(std::string_view(bytes_.data() + s.offset + s.eval_bytes, s.close_bytes));
  int64_t total = 0;
  r(total);
  return total;
}

std::optional<MonthEval> ClosedMonths::Eval(uint32_t month) const {
  const size_t i = Find(month);
  if (i == size() || !has_eval(i)) return std::nullopt;
  return EvalAt(i);
}

std::optional<RecordedClose> ClosedMonths::Close(uint32_t month) const {
  const size_t i = Find(month);
  if (i == size() || !has_close(i)) return std::nullopt;
  return CloseAt(i);
}

size_t ClosedMonths::heap_bytes() const {
  return bytes_.capacity() + index_.capacity() * sizeof(Slot) + texts_.capacity() +
         lookup_.capacity() * sizeof(uint32_t);
}

}  // namespace hourbank::projections
