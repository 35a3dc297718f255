// hourbank-bench generate: a synthetic ledger that looks like real use.
//
// Clients are spread round-robin over every plan of the price lists; month by month each
// client gets hour and item work spread over the month (acceptance for plans that need it),
// an hour block or add-on now and then, the manager's approval of the month's work on plans
// with review_required, the month close and a payment of the invoice. Every
// event is decided by the real decide functions against an in-memory ClientState, appended
// with Log::Append (nosync) in batches of at most 1000 events of one client, and folded into
// that state with the seq the ledger gives it (checked against the prediction).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "projections/decide.h"
#include "tools/bench/bench.h"

namespace hourbank::bench {

using namespace projections;

namespace {

constexpr size_t kBatchEventsMax = 1000;
constexpr uint32_t kFirstMonth = 202401;
constexpr int64_t kHourUs = 3600LL * 1000000;
constexpr int64_t kDayUs = 24 * kHourUs;

Result<std::vector<PlanSpec>> LoadPlans(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  if (ec) return Error::Invalid(fmt::format("cannot list plans in {}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end());  // deterministic order
  std::vector<PlanSpec> plans;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = ParsePlans(text.str(), f.filename().string());
    if (!parsed.ok()) return parsed.error();
    for (auto& p : *parsed) plans.push_back(std::move(p));
  }
  if (plans.empty()) return Error::Invalid(fmt::format("no plans (*.toml) in {}", dir));
  return plans;
}

struct Client {
  std::string id;
  const PlanSpec* plan = nullptr;
  ClientState state;
  std::vector<ledger::EventDraft> pending;  // decided, applied to `state`, not yet appended
  uint64_t events = 0;
  uint32_t task_seq = 0;
};

class Generator {
 public:
  Generator(const GenerateOptions& o, ledger::Log& log, std::vector<PlanSpec> plans)
      : o_(o), log_(log), plans_(std::move(plans)), rng_(o.seed) {}

  Result<GenerateReport> Run() {
    const auto t0 = std::chrono::steady_clock::now();
    HB_TRY(DefinePlans());
    HB_TRY(Setup());
    const uint64_t per_client =
        std::max<uint64_t>(o_.events / std::max<uint32_t>(o_.clients, 1), 8);
    for (uint32_t i = 0; i < o_.months; ++i) {
      const uint32_t month = AddMonths(kFirstMonth, int32_t(i));
      for (Client& c : clients_) {
        const uint64_t target = per_client * (i + 1) / o_.months;
        HB_TRY(Month(c, month, target));
        HB_TRY(Flush(c));
        DrawProgress();
      }
    }
    if (bar_) std::fputs("\r\033[K", stderr);
    report_.events = log_.head_seq();
    report_.seconds = SecondsSince(t0);
    return report_;
  }

 private:
  Status DefinePlans() {
    Catalog empty;
    auto d = DecidePlanDefine(empty, plans_, Zone::Utc().MonthStartUs(AddMonths(kFirstMonth, -1)));
    if (!d.ok()) return d.error();
    ledger::AppendRequest req;
    req.client_id = kCatalogStream;
    req.events = std::move(d->events);
    auto r = log_.Append(std::move(req));
    if (!r.ok()) return r.error();
    return Status::Ok();
  }

  // Decides with `fn`, stamps the client id, folds the drafts into the state with the seqs
  // they will get, and queues them. A refusal by the rules is counted and skipped.
  template <typename Fn>
  Status Do(Client& c, Fn&& fn) {
    Result<Decision> d = fn(static_cast<const ClientState&>(c.state));
    if (!d.ok()) {
      ++report_.rejected;
      return Status::Ok();
    }
    for (auto& draft : d->events) {
      draft.root().setClientId(c.id);
      const uint64_t seq = log_.head_seq() + c.pending.size() + 1;
      auto body = draft.root().asReader().getBody();
      if (body.isWorkLogged()) ++report_.work_entries;
      c.state.Apply(seq, draft.root().asReader());
      c.pending.push_back(std::move(draft));
      if (c.pending.size() >= kBatchEventsMax) HB_TRY(Flush(c));
    }
    return Status::Ok();
  }

  Status Flush(Client& c) {
    if (c.pending.empty()) return Status::Ok();
    const uint64_t predicted = log_.head_seq() + 1;
    ledger::AppendRequest req;
    req.client_id = c.id;
    req.expected_version = uint32_t(c.state.version() - c.pending.size());
    req.events = std::move(c.pending);
    c.pending.clear();
    const size_t n = req.events.size();
    auto r = log_.Append(std::move(req));
    if (!r.ok()) return r.error();
    // The state folded the drafts with predicted seqs; a single writer makes them exact.
    if (r->first_seq != predicted)
      return Error::Conflict("another writer appended to the bench ledger");
    c.events += n;
    return Status::Ok();
  }

  Status Setup() {
    const int64_t setup_us = Zone::Utc().AddLocalDays(Zone::Utc().MonthStartUs(kFirstMonth), -10);
    Catalog catalog;
    HB_TRY(log_.ReadStream(kCatalogStream, 1, 0, [&](const ledger::EventView& v) {
      catalog.Apply(v.seq, v.event);
      return true;
    }));
    clients_.reserve(o_.clients);
    for (uint32_t i = 0; i < o_.clients; ++i) {
      clients_.emplace_back();
      Client& c = clients_.back();
      c.plan = &plans_[i % plans_.size()];
      c.id = GeneratedClientId(i);
      c.state.set_id(c.id);
      RegisterClient reg{c.id, fmt::format("Client {} ({})", i, c.plan->id), c.plan->currency,
                         "Europe/Moscow"};
      HB_TRY(Do(c, [&](const ClientState& s) { return DecideRegister(s, reg, setup_us); }));
      StartContract sc{.plan_id = c.plan->id,
                       .from_month = kFirstMonth,
                       .term_months = std::max(o_.months, c.plan->minimum_term_months)};
      if (!c.plan->tiers.empty())
        sc.units =
            uint32_t(std::max<int64_t>(c.plan->tiers.front().min_units, rng_.Between(5, 40)));
      HB_TRY(Do(
          c, [&](const ClientState& s) { return DecideContractStart(s, catalog, sc, setup_us); }));
    }
    return Status::Ok();
  }

  // One month of one client: work until the client's events reach `target` (less what the
  // close and payment will add), then the close on the 2nd of the next month and the payment.
  Status Month(Client& c, uint32_t month, uint64_t target) {
    const Zone& zone = c.state.zone();
    const int64_t start = zone.MonthStartUs(month);
    const int64_t end = zone.MonthEndUs(month);
    const uint64_t have = c.events + c.pending.size();
    const uint64_t reserve = 6;
    const uint64_t work = target > have + reserve ? target - have - reserve : 1;
    const uint32_t index = uint32_t(MonthsBetween(kFirstMonth, month));
    // Purchases now and then: an hour block (plans that sell them), an add-on.
    if (!c.plan->block_offers.empty() && index % 3 == 0) {
      const BlockOffer& offer = c.plan->block_offers[rng_.Next() % c.plan->block_offers.size()];
      HB_TRY(Do(c, [&](const ClientState& s) {
        return DecideBuyHours(s, {.minutes = offer.minutes, .at_us = start + kHourUs * 8},
                              start + kHourUs * 8);
      }));
    }
    if (!c.plan->addons.empty() && index % 2 == 1) {
      const Addon& a = c.plan->addons[rng_.Next() % c.plan->addons.size()];
      HB_TRY(Do(c, [&](const ClientState& s) {
        return DecideBuyAddon(s, a.id, month, start + kHourUs * 9, start + kHourUs * 9);
      }));
    }
    // Work spread evenly over the month (with jitter), in time order.
    const int64_t span = (end - start - 2 * kDayUs) / int64_t(work + 1);
    const std::vector<Kind>& kinds = c.plan->kinds;
    for (uint64_t w = 0; w < work && c.events + c.pending.size() < target; ++w) {
      const int64_t at = start + kDayUs / 2 + span * int64_t(w) +
                         int64_t(rng_.Next() % uint64_t(std::max<int64_t>(span, 1)));
      const Kind& k = kinds[rng_.Next() % kinds.size()];
      const std::string task = fmt::format("T-{}", ++c.task_seq);
      LogWork lw{.kind = k.id,
                 .task = task,
                 .staff = kStaff[rng_.Next() % 4],
                 .note = "synthetic work",
                 .at_us = at,
                 .urgent = rng_.Next() % 20 == 0};
      if (k.unit == Unit::kHour)
        lw.minutes = rng_.Between(1, 16) * 15;
      else
        lw.count = rng_.Between(1, 3);
      HB_TRY(Do(c, [&](const ClientState& s) { return DecideLog(s, lw, at + kHourUs); }));
      if (c.plan->acceptance_required)
        HB_TRY(Do(c, [&](const ClientState& s) {
          return DecideAccept(s, task, at + kHourUs * 2, false, at + kHourUs * 2);
        }));
    }
    // Close on the 2nd of the next month and pay the invoice the same day. On a plan with
    // review_required the manager first approves the month's work, as in real use (a month with
    // work pending review cannot close).
    const int64_t close_at = zone.AddLocalDays(end, 1) + kHourUs * 3;
    if (const ContractTerms* t = c.state.TermsFor(month); t && t->ReviewRequired())
      HB_TRY(Do(c, [&](const ClientState& s) {
        return DecideReview(s, {.month = month, .all = true}, close_at - kHourUs);
      }));
    HB_TRY(Do(c, [&](const ClientState& s) { return DecideClose(s, month, close_at); }));
    const int64_t total = c.state.InvoiceFor(month).total_minor;
    if (total > 0)
      HB_TRY(Do(c, [&](const ClientState& s) {
        return DecidePay(s, total, fmt::format("invoice {}", FormatMonth(month)),
                         close_at + kHourUs, close_at + kHourUs);
      }));
    return Status::Ok();
  }

  void DrawProgress() {
    if (!o_.progress || isatty(STDERR_FILENO) == 0) return;
    const uint64_t done = log_.head_seq();
    const uint64_t percent = std::min<uint64_t>(100, o_.events ? done * 100 / o_.events : 100);
    if (percent == last_percent_) return;
    last_percent_ = percent;
    const int filled = int(percent / 4);
    std::fprintf(
        stderr, "\rgenerate [%s%s] %3llu%% %llu/%llu", std::string(size_t(filled), '#').c_str(),
        std::string(size_t(25 - filled), ' ').c_str(), static_cast<unsigned long long>(percent),
        static_cast<unsigned long long>(done), static_cast<unsigned long long>(o_.events));
    std::fflush(stderr);
    bar_ = true;
  }

  static constexpr const char* kStaff[4] = {"anna", "boris", "olga", "ivan"};
  const GenerateOptions& o_;
  ledger::Log& log_;
  std::vector<PlanSpec> plans_;
  Rng rng_;
  std::vector<Client> clients_;
  GenerateReport report_;
  uint64_t last_percent_ = UINT64_MAX;
  bool bar_ = false;
};

}  // namespace

std::string GeneratedClientId(uint32_t i) { return fmt::format("client-{:05}", i); }

Result<GenerateReport> Generate(const GenerateOptions& options) {
  auto plans = LoadPlans(options.plans_dir);
  if (!plans.ok()) return plans.error();
  ledger::Options lo;
  lo.durability = ledger::Durability::kNoSync;
  lo.create_if_missing = true;
  lo.error_if_exists = true;
  auto log = ledger::Log::Open(options.ledger_dir, lo);
  if (!log.ok()) return log.error();
  return Generator(options, **log, std::move(*plans)).Run();
}

}  // namespace hourbank::bench
