// hourbank-bench run: every figure of DESIGN.md §5 in one run, with the peers beside ours.
// See docs/performance.md for what each row measures and what limits it.
#include "tools/bench/run.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <capnp/serialize.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "projections/decide.h"

namespace hourbank::bench {

using namespace projections;
using nlohmann::json;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[i];
}

std::string Num(double v) {
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.0f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}
std::string Ratio(double r) { return fmt::format("{:.2f}x", r); }

ledger::EventDraft DraftFromBytes(const std::string& bytes) {
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), words.size() * sizeof(capnp::word));
  capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.data(), words.size()));
  ledger::EventDraft d;
  d.message().setRoot(reader.getRoot<schemas::Event>());
  return d;
}

namespace {

// Inside Bench::Run: a failed step ends the run with its message.
#define HB_BENCH_TRY(expr)                       \
  do {                                           \
    Status s_ = (expr);                          \
    if (!s_.ok()) return Die(#expr, s_.error()); \
  } while (0)

// What a balance read computes (tools/hourbank/views.cc BalanceJson): the month's evaluation,
// blocks left, slots, money, blocked; serialised as JSON.
std::string BalanceLike(const ClientState& s, uint32_t month, int64_t at_us) {
  MonthEval ev = s.Evaluate(month);
  const auto* terms = s.TermsFor(month);
  int64_t prepaid = 0;
  for (const auto& b : ev.blocks_end) prepaid += b.left_minutes;
  json slots = json::object();
  for (const auto& [pool, u] : ev.pools)
    slots[pool] = {{"quota", u.quota}, {"used", u.used}, {"left", u.left()}};
  json j = {
      {"client", s.id()},
      {"month", FormatMonth(month)},
      {"currency", s.currency()},
      {"plan", terms ? terms->plan_id : ""},
      {"allowance",
       {{"included_minutes", ev.included_minutes}, {"used_minutes", ev.allowance_used_minutes}}},
      {"reserve_minutes", ev.reserve_start_minutes - ev.reserve_used_minutes},
      {"prepaid_minutes", prepaid},
      {"overage_minutes", ev.overage_minutes},
      {"used_minutes", ev.used_minutes},
      {"slots", slots},
      {"invoice_so_far_minor", ev.invoice.total_minor},
      {"outstanding_minor", s.outstanding_minor()},
      {"blocked", s.BlockedAt(at_us)}};
  return j.dump();
}

// A JSON body for the peers: the facts a balance needs, flat and ASCII.
std::string BodyJson(schemas::Event::Reader e, FlatEvent* f) {
  auto body = e.getBody();
  json j;
  switch (body.which()) {
    case schemas::Event::Body::WORK_LOGGED: {
      auto w = body.getWorkLogged();
      f->work = true;
      f->kind = w.getKind().cStr();
      f->minutes = w.getMinutes();
      f->count = w.getCount();
      j = {{"type", "work_logged"},        {"kind", f->kind},       {"task", w.getTask().cStr()},
           {"staff", w.getStaff().cStr()}, {"minutes", f->minutes}, {"count", f->count},
           {"urgent", w.getUrgent()}};
      break;
    }
    case schemas::Event::Body::PAYMENT_RECEIVED:
      j = {{"type", "payment"}, {"amount_minor", body.getPaymentReceived().getAmountMinor()}};
      break;
    case schemas::Event::Body::HOURS_PURCHASED:
      j = {{"type", "hours_purchased"},
           {"minutes", body.getHoursPurchased().getMinutes()},
           {"price_minor", body.getHoursPurchased().getPriceMinor()}};
      break;
    case schemas::Event::Body::PERIOD_CLOSED:
      j = {{"type", "period_closed"},
           {"month", body.getPeriodClosed().getMonth()},
           {"total_minor", body.getPeriodClosed().getTotalMinor()}};
      break;
    default:
      j = {{"type", int(body.which())}};
  }
  j["at_us"] = e.getEffectiveAtUs();
  return j.dump(-1, ' ', true);  // ensure_ascii
}

class Bench {
 public:
  explicit Bench(const RunOptions& o) : o_(o) {}

  int Run() {
    std::error_code ec;
    std::filesystem::create_directories(o_.work_dir, ec);
    Say(fmt::format("hourbank-bench run: {} events, {} clients, work dir {}", o_.events, o_.clients,
                    o_.work_dir));

    // 0. The ledger every read figure uses.
    const std::string ledger_a = o_.work_dir + "/ledger-n";
    auto gen = GenerateLedger(ledger_a, /*progress=*/!o_.json);
    if (!gen.ok()) return Die("generate", gen.error());
    Say(fmt::format("generated {} events ({} work entries, {} refused decisions) in {:.1f} s",
                    gen->events, gen->work_entries, gen->rejected, gen->seconds));
    j_["generate"] = {
        {"events", gen->events}, {"work_entries", gen->work_entries}, {"seconds", gen->seconds}};

    // 3. Rebuild (in process, best of 3: the first warms the page cache as db_bench's fill does).
    RebuildResult best;
    {
      auto log = ledger::Log::Open(ledger_a, {});
      if (!log.ok()) return Die("open", log.error());
      for (int i = 0; i < 3; ++i) {
        auto r = Rebuild(**log);
        if (!r.ok()) return Die("rebuild", r.error());
        if (i == 0 || r->seconds < best.seconds) best = std::move(*r);
      }
      HB_BENCH_TRY(Flatten(**log));
    }
    events_ = best.events;
    mean_bytes_ = uint32_t(best.event_bytes / std::max<uint64_t>(best.events, 1));
    const double rebuild_eps = double(best.events) / best.seconds;
    Say(fmt::format("rebuild: {} events in {:.3f} s, mean event {} bytes", best.events,
                    best.seconds, mean_bytes_));

    // 1. Bulk append (db_bench fillseq beside it); 2. single durable appends, 1/8/32 writers.
    const PeerFigure db = AppendRows({1, 8, 32});
    const double bulk_eps = bulk_eps_;

    // 3. Rebuild rows.
    rows_.push_back({"rebuild (scan + fold all clients) ev/s", Num(rebuild_eps),
                     db.ok ? "db_bench readseq " + Num(db.value2) : db.skipped,
                     db.ok ? Ratio(rebuild_eps / db.value2) : "-", ">= 0.5 x readseq",
                     db.ok ? Verdict(rebuild_eps / db.value2 >= 0.5) : "-"});
    j_["rebuild"] = {{"events", best.events},
                     {"seconds", best.seconds},
                     {"events_per_s", rebuild_eps},
                     {"db_bench_readseq_ops_per_s", db.ok ? json(db.value2) : json(nullptr)}};
    GrowthRows(o_, ledger_a, raw_, &rows_, &j_);

    // 4. Balance queries.
    Balance(best);
    Http(ledger_a, best);

    // 5. PostgreSQL; 6. hledger, ledger-cli.
    Peers(best.seconds, bulk_eps, rebuild_eps);

    Print();
    if (!o_.keep) std::filesystem::remove_all(o_.work_dir, ec);
    return 0;
  }

  // `hourbank-bench append`: only the append rows (bulk append beside db_bench fillseq and
  // PostgreSQL's insert; 1 and 8 durable writers) on a generated ledger's events.
  // The run's ledger of --events events for --clients clients (seed 1) in `dir`.
  Result<GenerateReport> GenerateLedger(const std::string& dir, bool progress) const {
    return Generate({.ledger_dir = dir,
                     .plans_dir = o_.plans_dir,
                     .events = o_.events,
                     .clients = o_.clients,
                     .months = o_.months,
                     .seed = 1,
                     .progress = progress});
  }

  int RunAppend() {
    std::error_code ec;
    std::filesystem::create_directories(o_.work_dir, ec);
    std::string ledger_a = o_.source_ledger;
    if (ledger_a.empty()) {
      ledger_a = o_.work_dir + "/ledger-n";
      auto gen = GenerateLedger(ledger_a, /*progress=*/false);
      if (!gen.ok()) return Die("generate", gen.error());
    }
    {
      auto log = ledger::Log::Open(ledger_a, {});
      if (!log.ok()) return Die("open", log.error());
      HB_BENCH_TRY(Flatten(**log));
    }
    uint64_t bytes = 0;
    for (const std::string& r : raw_) bytes += r.size();
    events_ = raw_.size();
    mean_bytes_ = uint32_t(bytes / std::max<uint64_t>(events_, 1));
    Say(fmt::format("hourbank-bench append: {} events, mean event {} bytes, work dir {}", events_,
                    mean_bytes_, o_.work_dir));
    if (o_.writers) {
      AppendRows({1, 8});
    } else {
      AppendRows({});
    }
    if (o_.peers) {
      PeerFigure pg = Postgres(o_.work_dir + "/pg", flat_);
      rows_.push_back(pg.ok ? PostgresInsertRow(bulk_eps_, pg.value)
                            : Row{"vs PostgreSQL", pg.skipped, "-", "-", ">= 5 x (append)", "-"});
      j_["postgres"] =
          pg.ok ? json{{"insert_events_per_s", pg.value}} : json{{"skipped", pg.skipped}};
    }
    Print();
    if (!o_.keep) std::filesystem::remove_all(o_.work_dir, ec);
    return 0;
  }

 private:
  void Say(const std::string& line) {
    if (!o_.json) std::fprintf(stderr, "%s\n", line.c_str());
  }
  int Die(const char* what, const Error& e) {
    std::fprintf(stderr, "hourbank-bench: %s failed: %s\n", what, e.message.c_str());
    return 1;
  }

  // The bulk append row (db_bench fillseq beside it; returned for the readseq row) and the
  // rows of `writers` concurrent single durable appenders.
  PeerFigure AppendRows(std::initializer_list<int> writers) {
    bulk_eps_ = BulkAppend();
    PeerFigure db = o_.peers ? DbBench(o_.work_dir + "/db_bench", events_, mean_bytes_)
                             : PeerFigure{.skipped = "skipped (--no-peers)"};
    Row bulk{"bulk append (1000/batch, fsync/batch) ev/s",
             Num(bulk_eps_),
             db.ok ? "db_bench fillseq " + Num(db.value) : db.skipped,
             db.ok ? Ratio(bulk_eps_ / db.value) : "-",
             ">= 0.6 x fillseq",
             db.ok ? Verdict(bulk_eps_ / db.value >= 0.6) : "-"};
    rows_.push_back(bulk);
    fillseq_ops_ = db.ok ? db.value : 0;
    j_["bulk_append"] = {{"events_per_s", bulk_eps_},
                         {"db_bench_fillseq_ops_per_s", db.ok ? json(db.value) : json(nullptr)},
                         {"mean_event_bytes", mean_bytes_}};
    ConcurrentRows(writers);
    return db;
  }

  // The bulk append against PostgreSQL's event table. Beside it, the same ratio for RocksDB's
  // own fillseq: the most any store written through RocksDB could reach in this run.
  Row PostgresInsertRow(double bulk_eps, double pg_eps) const {
    std::string peer = Num(pg_eps) + " ev/s";
    if (fillseq_ops_ > 0) peer += fmt::format(" (db_bench fillseq: {})", Ratio(fillseq_ops_ / pg_eps));
    return {"vs PostgreSQL insert (1000/batch, sync commit)", Num(bulk_eps) + " ev/s", peer,
            Ratio(bulk_eps / pg_eps), ">= 5 x", Verdict(bulk_eps / pg_eps >= 5)};
  }

  // The ledger's events, flat, for the bulk append and the peers.
  Status Flatten(const ledger::Log& log) {
    std::map<std::string, uint32_t> versions;
    return log.Scan(1, 0, [&](const ledger::EventView& v) {
      FlatEvent f;
      f.stream = v.event.getClientId().cStr();
      f.version = ++versions[f.stream];
      f.at_us = v.event.getEffectiveAtUs();
      f.json = BodyJson(v.event, &f);
      flat_.push_back(std::move(f));
      raw_.emplace_back(v.bytes);
      return true;
    });
  }

  // Re-appends the generated events to a new synced ledger: per stream, in log order, in
  // batches of at most 1000. Drafts are built outside the timed section.
  double BulkAppend() {
    const std::string dir = o_.work_dir + "/ledger-bulk";
    auto log = ledger::Log::Open(
        dir, {.durability = ledger::Durability::kSync, .create_if_missing = true});
    if (!log.ok()) {
      Say("bulk append: " + log.error().message);
      return 0;
    }
    std::map<std::string, std::vector<size_t>> by_stream;
    for (size_t i = 0; i < raw_.size(); ++i) by_stream[flat_[i].stream].push_back(i);
    double seconds = 0;
    uint64_t appended = 0;
    for (auto& [stream, idx] : by_stream) {
      for (size_t from = 0; from < idx.size(); from += 1000) {
        ledger::AppendRequest req;
        req.client_id = stream;
        for (size_t k = from; k < std::min(idx.size(), from + 1000); ++k)
          req.events.push_back(DraftFromBytes(raw_[idx[k]]));
        const size_t n = req.events.size();
        const auto t0 = std::chrono::steady_clock::now();
        auto r = (*log)->Append(std::move(req));
        seconds += SecondsSince(t0);
        if (!r.ok()) {
          Say("bulk append: " + r.error().message);
          return 0;
        }
        appended += n;
      }
    }
    const auto st = (*log)->stats();
    Say(fmt::format("bulk append: {} events in {:.3f} s, {} fsyncs", appended, seconds, st.fsyncs));
    return double(appended) / seconds;
  }

  // The rows of concurrent single durable appenders, one ledger per row. The rows take turns
  // in short slices (1 writer, 8, 32, 1, 8, ...) so that the single writer's p50, the "1 fsync"
  // the others are measured in, comes from the same moments of the disk as their latencies.
  void ConcurrentRows(std::initializer_list<int> writers) {
    if (writers.size() == 0) return;
    std::vector<std::unique_ptr<ledger::Log>> logs;
    for (int threads : writers) {
      const std::string dir = fmt::format("{}/ledger-writers-{}", o_.work_dir, threads);
      auto log = ledger::Log::Open(
          dir, {.durability = ledger::Durability::kSync, .create_if_missing = true});
      if (!log.ok()) {
        Say("writers: " + log.error().message);
        return;
      }
      logs.push_back(std::move(log).value());
    }
    const double seconds_max = o_.quick ? 0.5 : 2.0;
    constexpr int kSlices = 10;
    std::vector<WritersFigure> figures(writers.size());
    for (int slice = 0; slice < kSlices; ++slice) {
      size_t row = 0;
      for (int threads : writers) {
        Slice(*logs[row], threads, slice, seconds_max / kSlices, &figures[row]);
        ++row;
      }
    }
    size_t row = 0;
    for (int threads : writers) {
      ConcurrentRow(*logs[row], threads, figures[row]);
      ++row;
    }
  }

  struct WritersFigure {
    std::vector<double> lat_us;
    // Per append: the log's synced groups completed between the call and its answer (its
    // own and any it waited behind), read from Log::stats() before and after the call.
    std::vector<double> syncs_waited;
    double seconds = 0;
    bool failed = false;
  };

  // `threads` appenders, each to its own stream, one event per append, for `seconds`.
  static void Slice(ledger::Log& log, int threads, int slice, double seconds,
                    WritersFigure* figure) {
    constexpr uint64_t kAppendsPerThreadMax = 100000;
    std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
    std::vector<std::vector<double>> waited(static_cast<size_t>(threads));
    std::atomic<bool> failed{false};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const std::string stream = fmt::format("writer-{:02}", t);
        for (uint64_t i = 0; i < kAppendsPerThreadMax && SecondsSince(t0) < seconds; ++i) {
          ledger::AppendRequest req;
          req.client_id = stream;
          ledger::EventDraft d;
          d.root().setEffectiveAtUs(int64_t(1700000000) * 1000000 + int64_t(i));
          d.root().setActor("bench");
          auto w = d.root().initBody().initWorkLogged();
          w.setKind("support");
          w.setTask(fmt::format("W-{}-{}", slice, i));
          w.setStaff("anna");
          w.setMinutes(30);
          req.events.push_back(std::move(d));
          const uint64_t syncs_before = log.stats().fsyncs;
          const auto a = std::chrono::steady_clock::now();
          auto r = log.Append(std::move(req));
          lat[size_t(t)].push_back(SecondsSince(a) * 1e6);
          waited[size_t(t)].push_back(double(log.stats().fsyncs - syncs_before));
          if (!r.ok()) {
            failed = true;
            return;
          }
        }
      });
    }
    for (auto& th : pool) th.join();
    figure->seconds += SecondsSince(t0);
    for (auto& v : lat) figure->lat_us.insert(figure->lat_us.end(), v.begin(), v.end());
    for (auto& v : waited)
      figure->syncs_waited.insert(figure->syncs_waited.end(), v.begin(), v.end());
    figure->failed = figure->failed || failed;
  }

  void ConcurrentRow(const ledger::Log& log, int threads, WritersFigure& f) {
    std::vector<double>& all = f.lat_us;
    const auto st = log.stats();
    const double per_fsync = st.fsyncs ? double(st.events_appended) / double(st.fsyncs) : 0;
    const double p50 = Percentile(all, 0.5), p99 = Percentile(all, 0.99);
    const double fsync_us = threads == 1 ? p50 : single_fsync_us_;
    if (threads == 1) single_fsync_us_ = p50;
    // Two readings of "p99 <= 2 fsyncs": the syncs an append waited for, counted (the group
    // commit's own property: the sync in flight when it arrived, then its own), and its
    // latency in units of one lone writer's append (which also holds the CPU of a bigger
    // group and of waking its writers on a shared machine).
    const double waited_p99 = Percentile(f.syncs_waited, 0.99);
    const bool by_count = per_fsync > 1.5 && waited_p99 <= 2;
    const bool by_time = per_fsync > 1.5 && p99 <= 2 * fsync_us;
    rows_.push_back(
        {fmt::format("{} writer(s): ev/s, p50/p99 us, ev/fsync", threads),
         fmt::format("{} ev/s; {:.0f}/{:.0f} us; {:.1f}", Num(double(all.size()) / f.seconds), p50,
                     p99, per_fsync),
         threads == 1 ? "(1 fsync = p50 here)" : fmt::format("1 fsync = {:.0f} us", fsync_us),
         fmt::format("p99 = {:.0f} syncs waited; {:.1f} fsyncs of time", waited_p99,
                     p99 / std::max(fsync_us, 1.0)),
         threads == 8 ? "several ev/fsync; p99 <= 2 fsyncs" : "-",
         threads == 8 ? fmt::format("count: {}; time: {}", Verdict(by_count), Verdict(by_time))
                      : "-"});
    j_["writers"][std::to_string(threads)] = {
        {"appends", all.size()},          {"seconds", f.seconds},
        {"p50_us", p50},                  {"p99_us", p99},
        {"events_per_fsync", per_fsync},  {"p99_syncs_waited", waited_p99},
        {"p50_syncs_waited", Percentile(f.syncs_waited, 0.5)}, {"failed", f.failed}};
  }

  void Balance(const RebuildResult& r) {
    std::vector<const ClientState*> states;
    for (const auto& [id, s] : r.states) states.push_back(&s);
    if (states.empty()) return;
    const size_t queries = o_.quick ? 5000 : 50000;
    std::vector<double> lat;
    lat.reserve(queries);
    size_t bytes = 0;
    for (size_t i = 0; i < queries; ++i) {
      const ClientState& s = *states[i % states.size()];
      const uint32_t month = s.FirstOpenMonth();
      const int64_t at = s.zone().DayStartUs(int32_t(month) * 100 + 11);
      const auto t0 = std::chrono::steady_clock::now();
      bytes += BalanceLike(s, month, at).size();
      lat.push_back(SecondsSince(t0) * 1e6);
    }
    const double p50 = Percentile(lat, 0.5), p99 = Percentile(lat, 0.99);
    rows_.push_back({"balance in process p50/p99 us", fmt::format("{:.1f} / {:.1f}", p50, p99), "-",
                     "-", "p99 <= 50 us", Verdict(p99 <= 50)});
    j_["balance_in_process"] = {
        {"queries", queries}, {"p50_us", p50}, {"p99_us", p99}, {"bytes", bytes}};
  }

  void Http(const std::string& ledger_dir, const RebuildResult& r);
  void Peers(double rebuild_seconds, double bulk_eps, double rebuild_eps);
  void Print();

  const RunOptions& o_;
  std::vector<FlatEvent> flat_;
  std::vector<std::string> raw_;
  uint64_t events_ = 0;
  uint32_t mean_bytes_ = 0;
  double single_fsync_us_ = 0;
  double fillseq_ops_ = 0;  // db_bench fillseq of this run, 0 when not measured
  double bulk_eps_ = 0;
  std::vector<Row> rows_;
  json j_;
};

// ---- balance over HTTP against `hourbank serve`, on the run's ledger

void Bench::Http(const std::string& ledger_dir, const RebuildResult& r) {
  HttpLoadOptions h{.hourbank_exe = o_.hourbank_exe,
                    .ledger_dir = ledger_dir,
                    .log_path = o_.work_dir + "/serve.log"};
  for (const auto& [id, s] : r.states) h.ids.push_back(id);
  h.now = HttpClockFor(r.states);
  h.queries = o_.quick ? 2000 : kHttpQueries;
  const double per_client = double(events_) / double(std::max<size_t>(r.states.size(), 1));
  HttpRows(h, fmt::format("caught-up states, ~{:.0f} ev/client", per_client), &rows_, &j_,
           "balance_http");
}

void Bench::Peers(double rebuild_seconds, double bulk_eps, double rebuild_eps) {
  (void)rebuild_eps;
  if (!o_.peers) {
    rows_.push_back(
        {"PostgreSQL, hledger, ledger-cli", "skipped (--no-peers)", "-", "-", "-", "-"});
    return;
  }
  PeerFigure pg = Postgres(o_.work_dir + "/pg", flat_);
  if (pg.ok) {
    rows_.push_back(PostgresInsertRow(bulk_eps, pg.value));
    rows_.push_back({"vs PostgreSQL rebuild (ORDER BY seq + fold) s",
                     fmt::format("{:.3f} s", rebuild_seconds), fmt::format("{:.3f} s", pg.value2),
                     Ratio(pg.value2 / rebuild_seconds), "-", "-"});
    j_["postgres"] = {{"insert_events_per_s", pg.value}, {"rebuild_seconds", pg.value2}};
  } else {
    rows_.push_back({"vs PostgreSQL", pg.skipped, "-", "-", ">= 5 x (append)", "-"});
    j_["postgres"] = {{"skipped", pg.skipped}};
  }
  const std::string journal = o_.work_dir + "/work.journal";
  WriteJournal(journal, flat_);
  size_t entries = 0;
  for (const auto& f : flat_) entries += f.work ? 1 : 0;
  // DESIGN.md 5: the rebuild at 0.5x readseq is "about 50x hledger and 8x ledger-cli" on the
  // design machine; 150x and 25x were this bench's own, stricter figures (kept as a stretch).
  struct Target {
    std::string name;
    double design, stretch;
  };
  for (const Target& t : {Target{"hledger", 50, 150}, Target{"ledger", 8, 25}}) {
    const std::string& name = t.name;
    PeerFigure p = JournalBal(name, journal);
    const std::string label = fmt::format("vs {} bal ({} entries) s", name, entries);
    const std::string target = fmt::format(">= {:.0f} x (stretch {:.0f} x)", t.design, t.stretch);
    if (p.ok) {
      const double ratio = p.value / rebuild_seconds;
      rows_.push_back({label, fmt::format("{:.3f} s", rebuild_seconds),
                       fmt::format("{:.3f} s", p.value), Ratio(ratio), target,
                       fmt::format("{}; stretch: {}", Verdict(ratio >= t.design),
                                   Verdict(ratio >= t.stretch))});
      j_[name] = {
          {"bal_seconds", p.value}, {"entries", entries}, {"ratio", p.value / rebuild_seconds}};
    } else {
      rows_.push_back({label, p.skipped, "-", "-", target, "-"});
      j_[name] = {{"skipped", p.skipped}};
    }
  }
}

void Bench::Print() {
  if (o_.json) {
    json rows = json::array();
    for (const Row& r : rows_)
      rows.push_back({{"what", r.what},
                      {"hourbank", r.ours},
                      {"peer", r.peer},
                      {"ratio", r.ratio},
                      {"target", r.target},
                      {"verdict", r.verdict}});
    j_["table"] = rows;
    j_["events"] = events_;
    j_["clients"] = o_.clients;
    std::printf("%s\n", j_.dump(2).c_str());
    return;
  }
  std::vector<Row> all = {{"what", "hourbank", "peer", "ratio", "target (DESIGN.md 5)", "verdict"}};
  all.insert(all.end(), rows_.begin(), rows_.end());
  size_t w[6] = {0, 0, 0, 0, 0, 0};
  auto cells = [](const Row& r) {
    return std::array<const std::string*, 6>{&r.what,  &r.ours,   &r.peer,
                                             &r.ratio, &r.target, &r.verdict};
  };
  for (const Row& r : all) {
    auto c = cells(r);
    for (int i = 0; i < 6; ++i) w[i] = std::max(w[i], c[size_t(i)]->size());
  }
  for (size_t k = 0; k < all.size(); ++k) {
    auto c = cells(all[k]);
    std::string line = "|";
    for (int i = 0; i < 6; ++i)
      line += " " + *c[size_t(i)] + std::string(w[i] - c[size_t(i)]->size(), ' ') + " |";
    std::printf("%s\n", line.c_str());
    if (k == 0) {
      line = "|";
      for (int i = 0; i < 6; ++i) line += std::string(w[i] + 2, '-') + "|";
      std::printf("%s\n", line.c_str());
    }
  }
}

}  // namespace

int RunBench(const RunOptions& options) { return Bench(options).Run(); }
int RunAppendBench(const RunOptions& options) { return Bench(options).RunAppend(); }

int RebuildOnce(const std::string& ledger_dir, uint32_t repeat) {
  auto log = ledger::Log::Open(ledger_dir, {});
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.error().message.c_str());
    return 1;
  }
  const uint64_t open_kib = PeakRssKib();  // the log's share: process, RocksDB open, tables
  auto r = Rebuild(**log);
  for (uint32_t i = 1; i < repeat && r.ok(); ++i) r = Rebuild(**log);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    return 1;
  }
  json j = {{"events", r->events},
            {"clients", r->states.size()},
            {"seconds", r->seconds},
            {"peak_rss_kib", PeakRssKib()},
            {"open_peak_rss_kib", open_kib}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace hourbank::bench
