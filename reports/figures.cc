#include "reports/figures.h"

#include <fmt/format.h>

namespace hourbank::reports {

using projections::Charge;
using projections::ClientState;
using projections::Entry;
using projections::MonthEval;

int64_t AllowanceLeftMinutes(const MonthEval& m) {
  return m.included_minutes - m.allowance_used_minutes;
}

int64_t ReserveLeftMinutes(const MonthEval& m) {
  return m.reserve_start_minutes - m.reserve_used_minutes;
}

int64_t PrepaidLeftMinutes(const MonthEval& m) {
  int64_t minutes = m.blocks_end_minutes();
  if (!m.closed)
    for (const auto& [block_seq, expiring_minutes] : m.expired_blocks) minutes += expiring_minutes;
  return minutes;
}

std::optional<Entry> EntryWithCharges(const ClientState& s, uint64_t seq) {
  const Entry* e = s.FindEntry(seq);
  if (!e) return std::nullopt;
  if (e->month != 0 && !e->voided)
    for (Entry& counted : s.EntriesFor(e->month))
      if (counted.seq == seq) return std::move(counted);
  return *e;
}

std::string PaidBy(const Entry& e, Lang lang) {
  const Labels& l = LabelsFor(lang);
  if (e.voided) return l.voided;
  if (e.month == 0) return l.awaiting;
  std::string out;
  for (const Charge& c : e.charges) {
    if (!out.empty()) out += ", ";
    out += SourceLabel(c.source, lang);
    if (c.source == Charge::Source::kBlock) out += fmt::format(" #{}", c.block_seq);
    if (!c.pool.empty()) out += " " + c.pool;
    if (e.unit == projections::Unit::kHour)
      out += " " + Duration(c.minutes, lang);
    else if (e.count > 1)
      out += fmt::format(" ×{}", c.count);
    if (c.surcharge_minor > 0) out += std::string(" +") + l.surcharge;
  }
  return out.empty() ? "—" : out;
}

int64_t BilledMinor(const Entry& e) { return e.voided || e.month == 0 ? 0 : e.billed_minor(); }

MoneyFigures Money(const ClientState& s) {
  return {s.invoiced_closed_minor(), s.paid_minor(), s.outstanding_minor()};
}

std::optional<Payment> PaymentOf(uint64_t seq, schemas::Event::Reader event) {
  const auto body = event.getBody();
  if (body.which() != schemas::Event::Body::PAYMENT_RECEIVED) return std::nullopt;
  const auto p = body.getPaymentReceived();
  return Payment{seq, event.getEffectiveAtUs(), p.getAmountMinor(),
                 std::string(p.getRef().cStr(), p.getRef().size())};
}

}  // namespace hourbank::reports
