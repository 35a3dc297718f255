// hourbank-bench run: how rebuild and append costs grow with the log (issue 19): rebuild time
// and peak memory at N, 4N, 16N events with the same clients, the append rate on a new log
// and on a grown one, the whole-process rebuild of a 2000-client ledger and balance over HTTP
// on it, and `--profile DIR` (perf record of the largest rebuild). docs/performance.md.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "tools/bench/run.h"

namespace hourbank::bench {

using nlohmann::json;

namespace {

struct Size {
  uint64_t events = 0;
  uint32_t clients = 0, months = 0;
  std::string dir;
};

bool Make(const RunOptions& o, const Size& s) {
  auto gen = Generate({.ledger_dir = s.dir,
                       .plans_dir = o.plans_dir,
                       .events = s.events,
                       .clients = s.clients,
                       .months = s.months,
                       .seed = 1,
                       .progress = !o.json});
  if (!gen.ok())
    std::fprintf(stderr, "hourbank-bench: generate %s: %s\n", s.dir.c_str(),
                 gen.error().message.c_str());
  return gen.ok();
}

std::string SelfExe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "/proc/self/exe" : p.string();
}

// A rebuild in a fresh child process: events, clients, seconds (the fold), peak_rss_kib, and
// wall_seconds (process start, open, fold, exit).
json RebuildChild(const std::string& dir) {
  ProcessResult p = RunProcess({SelfExe(), "rebuild-once", "--ledger", dir});
  if (p.exit_code != 0) return nullptr;
  try {
    json j = json::parse(p.out);
    j["wall_seconds"] = p.seconds;
    return j;
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The append rate (events/s over the Append calls, fsync per batch of 1000) of the first `n`
// of `raw` to stream "growth" of a new log (`fresh`) and of the grown log (`grown`), batch by
// batch in turn, so that both see the same moments of the shared disk (one slow fsync among 20
// would otherwise decide the ratio). {0, 0} on failure.
std::pair<double, double> AppendRates(const std::string& fresh, const std::string& grown,
                                      const std::vector<std::string>& raw, size_t n) {
  std::unique_ptr<ledger::Log> logs[2];
  const std::string* dirs[2] = {&fresh, &grown};
  for (int i = 0; i < 2; ++i) {
    auto log = ledger::Log::Open(*dirs[i], {.durability = ledger::Durability::kSync,
                                            .create_if_missing = true});
    if (!log.ok()) return {0, 0};
    logs[i] = std::move(log).value();
  }
  n = std::min(n, raw.size());
  double seconds[2] = {0, 0};
  for (size_t from = 0; from < n; from += 1000) {
    for (int i = 0; i < 2; ++i) {
      ledger::AppendRequest req;
      req.client_id = "growth";
      for (size_t k = from; k < std::min(n, from + 1000); ++k)
        req.events.push_back(DraftFromBytes(raw[k]));
      const auto t0 = std::chrono::steady_clock::now();
      if (!logs[i]->Append(std::move(req)).ok()) return {0, 0};
      seconds[i] += SecondsSince(t0);
    }
  }
  if (seconds[0] <= 0 || seconds[1] <= 0) return {0, 0};
  return {double(n) / seconds[0], double(n) / seconds[1]};
}

// `perf record -e cpu-clock -g` of three rebuilds of `ledger` into dir/perf.data; returns the
// top symbols of `perf report` (self time), or why there are none.
std::vector<std::string> Profile(const std::string& dir, const std::string& ledger) {
  const std::string perf = FindProgram({"/usr/bin/perf", "/usr/local/bin/perf"});
  if (perf.empty()) return {"no perf found (install linux-perf)"};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string data = dir + "/perf.data";
  ProcessResult rec = RunProcess({perf, "record", "-e", "cpu-clock", "-g", "-o", data, "--",
                                  SelfExe(), "rebuild-once", "--ledger", ledger, "--repeat", "3"},
                                 "", dir + "/record.log");
  if (rec.exit_code != 0)
    return {fmt::format("perf record failed ({}): see {}/record.log", rec.exit_code, dir)};
  ProcessResult rep = RunProcess({perf, "report", "-i", data, "--stdio", "--no-children", "-g",
                                  "none", "-F", "overhead,sym", "--percent-limit", "1"},
                                 "", dir + "/report.log");
  std::vector<std::string> top;
  size_t at = 0;
  while (at < rep.out.size() && top.size() < 15) {
    size_t end = rep.out.find('\n', at);
    if (end == std::string::npos) end = rep.out.size();
    const std::string line = rep.out.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line[0] != '#' && line.find('%') != std::string::npos) top.push_back(line);
  }
  return top;
}

// Profiles the rebuild of `dir` into o.profile_dir and prints the top symbols.
void ProfileRebuild(const RunOptions& o, const std::string& dir, const json& rebuilt, json* j) {
  const std::vector<std::string> top = Profile(o.profile_dir, dir);
  std::fprintf(stderr, "profile of the rebuild of %s (perf data in %s):\n", dir.c_str(),
               o.profile_dir.c_str());
  for (const std::string& line : top) std::fprintf(stderr, "  %s\n", line.c_str());
  (*j)["profile"] = {{"ledger_events", rebuilt["events"]}, {"top", top}};
}

// The growth rows from the rebuilds at each size (`got`, from RebuildChild) and append rates.
void GrowthTable(const std::vector<json>& got, double append_new, double append_grown,
                 std::vector<Row>* rows) {
  std::vector<std::string> events, mib, ns;
  for (const json& r : got) {
    const double n = r["events"].get<double>(), kib = r["peak_rss_kib"].get<double>();
    events.push_back(Num(n));
    mib.push_back(fmt::format("{:.1f}", kib / 1024));
    ns.push_back(fmt::format("{:.0f}", r["seconds"].get<double>() / n * 1e9));
  }
  const json &a = got.front(), &b = got.size() > 2 ? got[2] : got.back();
  const double mem = b["peak_rss_kib"].get<double>() / a["peak_rss_kib"].get<double>();
  const double slope = std::log(got.back()["seconds"].get<double>() / a["seconds"].get<double>()) /
                       std::log(got.back()["events"].get<double>() / a["events"].get<double>());
  const std::string sizes_text = fmt::format("{}", fmt::join(events, " / "));
  rows->push_back({"rebuild peak RSS MiB, " + sizes_text + " events",
                   fmt::format("{}", fmt::join(mib, " / ")), "same clients, more months",
                   Ratio(mem), "<= 1.3x (N to 16N)", Verdict(mem <= 1.3)});
  rows->push_back({"rebuild fold ns/event, " + sizes_text + " events",
                   fmt::format("{}", fmt::join(ns, " / ")), "log-log slope, 1.0 = linear",
                   fmt::format("slope {:.2f}", slope), "linear (slope <= 1.1)",
                   Verdict(slope <= 1.1)});
  const double flat = append_new > 0 ? append_grown / append_new : 0;
  rows->push_back({fmt::format("append (1000/batch, fsync) ev/s: new log / {} log", events.back()),
                   fmt::format("{} / {}", Num(append_new), Num(append_grown)), "-", Ratio(flat),
                   "flat (>= 0.8x)", Verdict(flat >= 0.8)});
}

// Rebuild time and peak RSS at each size; the append rate after the largest; its profile.
void Scale(const RunOptions& o, const std::vector<Size>& sizes, const std::vector<std::string>& raw,
           std::vector<Row>* rows, json* j) {
  const size_t appends = o.quick ? 5000 : 20000;
  std::vector<json> got;
  double append_new = 0, append_grown = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const Size& s = sizes[i];
    if (i > 0 && !Make(o, s)) break;
    // Every size is measured at rest. The first open after the generator replays its unflushed
    // write-ahead log (at most 8 MiB, whatever the size) into a memtable and flushes it; the
    // run's own ledger (size 0) was opened by the phases before and no longer pays that. Its
    // peak is kept as first_open_peak_rss_kib.
    const json first = i > 0 ? RebuildChild(s.dir) : json(nullptr);
    json r = RebuildChild(s.dir);
    if (r.is_null()) break;
    if (!first.is_null()) r["first_open_peak_rss_kib"] = first["peak_rss_kib"];
    got.push_back(r);
    std::fprintf(stderr, "growth: %s\n", r.dump().c_str());
    if (i + 1 == sizes.size()) {
      std::tie(append_new, append_grown) =
          AppendRates(o.work_dir + "/ledger-append-new", s.dir, raw, appends);
      if (!o.profile_dir.empty()) ProfileRebuild(o, s.dir, r, j);
    }
    std::error_code ec;
    if (i > 0) std::filesystem::remove_all(s.dir, ec);
  }
  if (got.size() < 2) {
    rows->push_back({"rebuild growth", "failed", "-", "-", "-", "-"});
    return;
  }
  GrowthTable(got, append_new, append_grown, rows);
  (*j)["growth"] = got;
  (*j)["append_growth"] = {{"new_log_events_per_s", append_new},
                           {"grown_log_events_per_s", append_grown}};
}

// The whole-process rebuild of a ledger of many clients, then balance over HTTP on it.
void ManyClients(const RunOptions& o, std::vector<Row>* rows, json* j) {
  const Size s{o.events * 20, o.quick ? 200u : 2000u, o.months, o.work_dir + "/ledger-clients"};
  if (!Make(o, s)) return;
  const json r = RebuildChild(s.dir);
  if (!r.is_null()) {
    const double eps = r["events"].get<double>() / r["wall_seconds"].get<double>();
    const double mib = r["peak_rss_kib"].get<double>() / 1024;
    rows->push_back({fmt::format("rebuild whole process, {} ev / {} clients",
                                 Num(r["events"].get<double>()), s.clients),
                     fmt::format("{} ev/s; {:.0f} MiB", Num(eps), mib),
                     "child: start, open, fold, exit", "-", ">= 1 M ev/s, <= 512 MiB",
                     Verdict(eps >= 1e6 && mib <= 512)});
    (*j)["rebuild_many_clients"] = r;
  }
  HttpLoadOptions h{.hourbank_exe = o.hourbank_exe,
                    .ledger_dir = s.dir,
                    .log_path = o.work_dir + "/serve-clients.log"};
  for (uint32_t i = 0; i < s.clients; ++i) h.ids.push_back(GeneratedClientId(i));
  h.queries = o.quick ? 2000 : kHttpQueries;
  HttpRows(h, "caught-up states", rows, j, "balance_http_many");
  std::error_code ec;
  std::filesystem::remove_all(s.dir, ec);
}

}  // namespace

void GrowthRows(const RunOptions& o, const std::string& ledger_n,
                const std::vector<std::string>& raw, std::vector<Row>* rows, json* j) {
  std::vector<Size> sizes = {{o.events, o.clients, o.months, ledger_n}};
  for (uint32_t k : {4u, 16u})
    sizes.push_back({o.events * k, o.clients, std::min(o.months * k, 600u),
                     fmt::format("{}/ledger-{}n", o.work_dir, k)});
  if (o.ten_million) sizes.push_back({10000000, o.clients, 600u, o.work_dir + "/ledger-10m"});
  Scale(o, sizes, raw, rows, j);
  ManyClients(o, rows, j);
}

}  // namespace hourbank::bench
