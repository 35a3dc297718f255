// What-if replays (reports/whatif.h).
#include "reports/whatif.h"

#include <capnp/message.h>
#include <fmt/format.h>

#include "projections/plan.h"
#include "projections/units.h"
#include "reports/text.h"

namespace hourbank::reports {

using namespace projections;
using schemas::Event;

namespace {

constexpr int32_t kWhatIfMonthsMax = 120;

// The event as the what-if fold sees it: the plan swapped, a late void made plain. Returns
// false for events the what-if leaves out (closing entries and closes).
bool Rewrite(Event::Reader in, const WhatIfRequest& r, capnp::MallocMessageBuilder& mb) {
  switch (in.getBody().which()) {
    case Event::Body::HOURS_CARRIED_OVER:
    case Event::Body::HOURS_EXPIRED:
    case Event::Body::SLOTS_EXPIRED:
    case Event::Body::PERIOD_CLOSED:
      return false;
    default:
      break;
  }
  mb.setRoot(in);
  auto body = mb.getRoot<Event>().getBody();
  if (body.isContractStarted()) {
    auto c = body.getContractStarted();
    c.setPlanId(r.plan_id);
    c.setPlanVersion(r.plan_version);
    c.setPlanSpecToml(r.plan_toml);
  } else if (body.isContractChanged()) {
    auto c = body.getContractChanged();
    c.setPlanId(r.plan_id);
    c.setPlanVersion(r.plan_version);
    c.setPlanSpecToml(r.plan_toml);
  } else if (body.isWorkVoided()) {
    auto v = body.getWorkVoided();
    v.setCreditMonth(0);
    v.setCreditMinor(0);
    v.setCreditMinutes(0);
  }
  return true;
}

// A WorkAccepted of `task` booked into `month`, for work the real history counted at once.
void Accept(ClientState& s, uint64_t seq, Event::Reader logged, const std::string& task,
            uint32_t month) {
  capnp::MallocMessageBuilder mb;
  mb.setRoot(logged);
  auto root = mb.getRoot<Event>();
  auto a = root.getBody().initWorkAccepted();
  a.setTask(task);
  a.setBookedMonth(month);
  s.Apply(seq, root.asReader());
}

}  // namespace

Result<WhatIf> MakeWhatIf(const std::vector<std::pair<uint64_t, Event::Reader>>& events,
                          const WhatIfRequest& r) {
  auto plan = ParseCanonicalPlan(r.plan_toml);
  if (!plan.ok()) return Error{Code::kInvalid, "what-if plan: " + plan.error().message};
  ClientState real(ClientOptions{.retain_entries = true});
  ClientState alt(ClientOptions{.retain_entries = true});
  for (const auto& [seq, ev] : events) {
    real.Apply(seq, ev);
    capnp::MallocMessageBuilder mb;
    if (!Rewrite(ev, r, mb)) continue;
    alt.Apply(seq, mb.getRoot<Event>().asReader());
    if (!ev.getBody().isWorkLogged()) continue;
    const Entry* counted = real.FindEntry(seq);
    const Entry* pending = alt.FindEntry(seq);
    if (counted && pending && counted->month != 0 && pending->month == 0)
      Accept(alt, seq, ev, pending->task, counted->month);
  }
  if (!real.registered())
    return Error{Code::kNotFound, "unknown client: the stream has no registration"};
  if (plan.value().currency != real.currency())
    return Error{Code::kInvalid,
                 fmt::format("plan {} is in {}, the client pays in {}; pick a {} plan", r.plan_id,
                             plan.value().currency, real.currency(), real.currency())};
  if (!real.has_contract())
    return Error{Code::kInvalid, fmt::format("client '{}' has no contract to replay", real.id())};
  const uint32_t from = r.from_month ? r.from_month : real.first_month();
  uint32_t to = r.to_month;
  if (to == 0) {
    to = real.zone().MonthOf(r.now_us);
    if (real.last_month() != 0 && real.last_month() < to) to = real.last_month();
  }
  if (from > to)
    return Error{Code::kInvalid,
                 fmt::format("--from {} is after --to {}", FormatMonth(from), FormatMonth(to))};
  if (MonthsBetween(from, to) >= kWhatIfMonthsMax)
    return Error{Code::kInvalid,
                 fmt::format("at most {} months at a time; narrow --from/--to", kWhatIfMonthsMax)};

  WhatIf w;
  w.client = real.id();
  w.name = real.name();
  w.currency = real.currency();
  w.plan_id = r.plan_id;
  w.plan_version = r.plan_version;
  for (uint32_t m = from; m <= to; m = NextMonth(m)) {
    WhatIfMonth row;
    row.month = m;
    row.closed = real.IsClosed(m);
    row.billed_minor = real.InvoiceFor(m).total_minor;
    Invoice inv = alt.InvoiceFor(m);
    row.whatif_minor = inv.total_minor;
    row.whatif_lines = std::move(inv.lines);
    w.billed_total_minor += row.billed_minor;
    w.whatif_total_minor += row.whatif_minor;
    w.months.push_back(std::move(row));
  }
  w.difference_minor = w.whatif_total_minor - w.billed_total_minor;
  // Problems the what-if fold met that the real one did not (work of a kind the plan lacks, …).
  for (const ReplayProblem& p : alt.problems()) {
    bool known = false;
    for (const ReplayProblem& q : real.problems())
      known = known || (q.seq == p.seq && q.what == p.what);
    if (!known) w.problems.push_back(p);
  }
  return w;
}

nlohmann::json WhatIfJson(const WhatIf& w) {
  nlohmann::json months = nlohmann::json::array();
  for (const WhatIfMonth& m : w.months) {
    nlohmann::json lines = nlohmann::json::array();
    for (const InvoiceLine& l : m.whatif_lines)
      lines.push_back({{"code", l.code},
                       {"description", l.description},
                       {"quantity", l.quantity},
                       {"unit_price_minor", l.unit_price_minor},
                       {"amount_minor", l.amount_minor}});
    months.push_back({{"month", FormatMonth(m.month)},
                      {"closed", m.closed},
                      {"billed_minor", m.billed_minor},
                      {"whatif_minor", m.whatif_minor},
                      {"difference_minor", m.whatif_minor - m.billed_minor},
                      {"lines", std::move(lines)}});
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const ReplayProblem& p : w.problems) problems.push_back({{"seq", p.seq}, {"what", p.what}});
  return {{"client", w.client},
          {"currency", w.currency},
          {"plan", w.plan_id},
          {"plan_version", w.plan_version},
          {"months", std::move(months)},
          {"billed_total_minor", w.billed_total_minor},
          {"whatif_total_minor", w.whatif_total_minor},
          {"difference_minor", w.difference_minor},
          {"problems", std::move(problems)}};
}

std::string WhatIfText(const WhatIf& w, Lang lang) {
  const bool ru = lang == Lang::kRu;
  const std::string plan = fmt::format("{} v{}", w.plan_id, w.plan_version);
  std::string out = ru ? fmt::format("Что если: {} на тарифе {}\n\n", w.client, plan)
                       : fmt::format("What if {} were on {}\n\n", w.client, plan);
  std::vector<std::vector<std::string>> rows;
  for (const WhatIfMonth& m : w.months)
    rows.push_back({FormatMonth(m.month) + (m.closed ? "" : (ru ? " (открыт)" : " (open)")),
                    FormatMoney(m.billed_minor, w.currency),
                    FormatMoney(m.whatif_minor, w.currency),
                    FormatMoney(m.whatif_minor - m.billed_minor, w.currency)});
  rows.push_back({ru ? "итого" : "total", FormatMoney(w.billed_total_minor, w.currency),
                  FormatMoney(w.whatif_total_minor, w.currency),
                  FormatMoney(w.difference_minor, w.currency)});
  out += RenderTable({{ru ? "месяц" : "month"},
                      {ru ? "выставлено" : "billed", Align::kRight},
                      {ru ? "что если" : "what-if", Align::kRight},
                      {ru ? "разница" : "difference", Align::kRight}},
                     rows);
  for (const ReplayProblem& p : w.problems)
    out += fmt::format("{} #{}: {}\n", ru ? "не учтено" : "not placed", p.seq, p.what);
  return out;
}

}  // namespace hourbank::reports
