// A closed month's frozen evaluation, packed: ClientState keeps every closed month's MonthEval
// (its invoice lines, pool usage, blocks, closing figures) so invoices and reports of old months
// answer from the state, and those evaluations are most of what a replayed state holds once
// months go by (issue 19: rebuild memory grows with months). Packed, a month is a run of
// varints and texts, about a quarter of the maps, vectors and strings it unpacks to. Packing
// is lossless: UnpackMonthEval(PackMonthEval(e)) == e.
//
// ClosedMonths holds all of one client's closed months (the evaluation and the recorded close
// of each) in one byte arena with a sorted (month, offset, lengths) index, and the texts of
// every month (invoice line codes and descriptions, pool names) once, in a per-client pool the
// months refer to: the same "task" / "site_link off-hours" lines recur month after month.
//
// The bytes live only in memory (checkpoints store the unpacked evaluation as JSON), but
// unpacking is still bounded: truncated or garbled bytes give a partial MonthEval (fields past
// the damage are zero, counts are capped by the bytes left), never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hourbank::projections {

struct MonthEval;      // projections/state.h
struct RecordedClose;  // projections/state.h

// One month on its own, texts inline.
std::string PackMonthEval(const MonthEval& eval);
MonthEval UnpackMonthEval(std::string_view packed);

class ClosedMonths {
 public:
  // Stores a month's evaluation or recorded close, replacing what the month had.
  void PutEval(uint32_t month, const MonthEval& eval);
  void PutClose(uint32_t month, const RecordedClose& close);
  // nullopt when the month has none stored.
  std::optional<MonthEval> Eval(uint32_t month) const;
  std::optional<RecordedClose> Close(uint32_t month) const;

  // The months with something stored, ascending: month(i), and whether each part is there.
  size_t size() const { return index_.size(); }
  uint32_t month(size_t i) const { return index_[i].month; }
  bool has_eval(size_t i) const { return index_[i].eval_bytes != 0; }
  bool has_close(size_t i) const { return index_[i].close_bytes != 0; }
  MonthEval EvalAt(size_t i) const;       // has_eval(i)
  RecordedClose CloseAt(size_t i) const;  // has_close(i)
  int64_t CloseTotalAt(size_t i) const;   // CloseAt(i).total_minor, without the rest
  size_t Find(uint32_t month) const;      // the index of month, size() when absent

  size_t heap_bytes() const;  // what the arena, index and text pool hold (capacity)

 private:
  struct Slot {
    uint32_t month = 0;
    uint32_t offset = 0;       // in bytes_: the evaluation, then the close
    uint32_t eval_bytes = 0;   // 0: none stored (a packed part is never empty)
    uint32_t close_bytes = 0;  // 0: none stored
  };
  Slot& SlotFor(uint32_t month);  // inserted in month order when new
  void Store(Slot& slot, std::string_view eval, std::string_view close);
  void Compact();
  std::string PackEval(const MonthEval& eval);
  std::string PackClose(const RecordedClose& close);
  uint32_t Intern(std::string_view text);  // the text's offset in texts_, UINT32_MAX if full
  std::string_view Text(uint64_t offset) const;

  std::vector<char> bytes_;       // packed parts, grown by an eighth (not doubled)
  size_t garbage_ = 0;            // bytes_ no slot points to any more
  std::vector<Slot> index_;       // by month
  std::vector<char> texts_;       // distinct texts, each a varint length and its bytes
  std::vector<uint32_t> lookup_;  // open addressing over texts_: offset + 1, 0 empty
  size_t text_count_ = 0;
};

}  // namespace hourbank::projections
