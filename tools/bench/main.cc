// hourbank-bench: a synthetic ledger generator and the benchmark of DESIGN.md §5.
//
//   hourbank-bench generate --ledger DIR --events N --clients K [--months M] [--seed S]
//   hourbank-bench run [--json] [--events N] [--quick] [--no-peers]
//   hourbank-bench append [--json] [--events N] [--quick] [--no-peers]   (the append rows only)
//
// See docs/performance.md for the figures and how to read them.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/bench/bench.h"
#include "tools/bench/run.h"

namespace hourbank::bench {

Result<RebuildResult> Rebuild(const ledger::Log& log) {
  RebuildResult r;
  const auto t0 = std::chrono::steady_clock::now();
  // As `hourbank rebuild` (tools/hourbank/cli/cmd_read.cc): one scan, one ClientState per client.
  Status st = log.Scan(1, 0, [&](const ledger::EventView& v) {
    ++r.events;
    r.event_bytes += v.bytes.size();
    const capnp::Text::Reader id = v.event.getClientId();
    if (id.size() == 0 || id[0] == '$') return true;
    auto it = r.states.find(std::string_view(id.cStr(), id.size()));
    if (it == r.states.end()) {
      it = r.states
               .emplace(std::string(id.cStr(), id.size()),
                        projections::ClientState({.retain_entries = false}))
               .first;
      it->second.set_id(it->first);
    }
    it->second.Apply(v.seq, v.event);
    return true;
  });
  if (!st.ok()) return st.error();
  r.seconds = SecondsSince(t0);
  return r;
}

uint64_t PeakRssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

}  // namespace hourbank::bench

int main(int argc, char** argv) {
  using namespace hourbank::bench;
  CLI::App cli{
      "hourbank-bench: synthetic ledgers and the performance figures of DESIGN.md section 5"};
  cli.require_subcommand(1);

  GenerateOptions g;
  g.plans_dir = HOURBANK_BENCH_PLANS_DIR;
  auto* gen = cli.add_subcommand(
      "generate",
      "Write a deterministic synthetic ledger through the append path\n"
      "  e.g. hourbank-bench generate --ledger /tmp/big --events 1000000 --clients 200");
  gen->add_option("--ledger", g.ledger_dir, "new ledger directory")->required();
  gen->add_option("--events", g.events, "events to write (about)")
      ->check(CLI::Range(uint64_t(10), uint64_t(100000000)));
  gen->add_option("--clients", g.clients, "clients, spread over every plan")
      ->check(CLI::Range(1u, 100000u));
  gen->add_option("--months", g.months, "months of work, from 2024-01")
      ->check(CLI::Range(1u, 600u));
  gen->add_option("--seed", g.seed, "generator seed (same seed, same ledger)");
  gen->add_option("--plans", g.plans_dir, "directory of plan *.toml files");

  RunOptions r;
  r.plans_dir = HOURBANK_BENCH_PLANS_DIR;
  r.hourbank_exe = HOURBANK_BENCH_HOURBANK_EXE;
  bool events_given = false;
  auto* run = cli.add_subcommand(
      "run",
      "Measure every figure (table, or --json) against db_bench, PostgreSQL, hledger, ledger\n"
      "  e.g. hourbank-bench run --json > bench.json");
  run->add_flag("--json", r.json, "JSON on stdout instead of the table");
  run->add_option("--events", r.events, "events in the benchmark ledger")
      ->check(CLI::Range(uint64_t(1000), uint64_t(10000000)))
      ->each([&](const std::string&) { events_given = true; });
  run->add_option("--clients", r.clients, "clients")->check(CLI::Range(1u, 100000u));
  run->add_flag("--quick", r.quick, "small sizes: under a minute");
  run->add_flag("!--no-peers", r.peers, "skip db_bench, PostgreSQL, hledger, ledger-cli");
  run->add_option("--work-dir", r.work_dir, "scratch directory (default: a new one under /tmp)");
  run->add_flag("--keep", r.keep, "keep the scratch directory");
  run->add_option("--plans", r.plans_dir, "directory of plan *.toml files");
  run->add_option("--hourbank", r.hourbank_exe, "the hourbank executable (for `serve`)");
  run->add_option("--profile", r.profile_dir,
                  "perf record -e cpu-clock -g the slowest phase (the largest rebuild) into DIR");
  run->add_flag("--ten-million", r.ten_million,
                "add a 10 M-event ledger to the rebuild growth rows (minutes; not in CI)");

  RunOptions ap = r;
  bool ap_events_given = false;
  auto* append = cli.add_subcommand(
      "append",
      "Only the append rows of `run`: bulk append beside db_bench fillseq and PostgreSQL,\n"
      "  1 and 8 durable writers  e.g. hourbank-bench append --quick");
  append->add_flag("--json", ap.json, "JSON on stdout instead of the table");
  append->add_option("--events", ap.events, "events generated, then re-appended")
      ->check(CLI::Range(uint64_t(1000), uint64_t(10000000)))
      ->each([&](const std::string&) { ap_events_given = true; });
  append->add_option("--clients", ap.clients, "clients")->check(CLI::Range(1u, 100000u));
  append->add_flag("--quick", ap.quick, "20 000 events, 0.5 s per writers row");
  append->add_flag("!--no-peers", ap.peers, "skip db_bench and PostgreSQL");
  append->add_option("--work-dir", ap.work_dir,
                     "scratch directory (default: a new one under /tmp)");
  append->add_flag("--keep", ap.keep, "keep the scratch directory");
  append
      ->add_option("--ledger", ap.source_ledger,
                   "re-append this ledger's events instead of generating one (callgrind)")
      ->check(CLI::ExistingDirectory);
  append->add_flag("!--no-writers", ap.writers,
                   "only the bulk append row (repeatable instruction counts under callgrind)");

  std::string once_dir;
  auto* once = cli.add_subcommand(
      "rebuild-once", "(internal) rebuild a ledger and print events, seconds, peak RSS");
  once->group("");
  once->add_option("--ledger", once_dir)->required();
  uint32_t once_repeat = 1;
  once->add_option("--repeat", once_repeat,
                   "rebuild this many times (for profiling); the last is reported")
      ->check(CLI::Range(1u, 100u));

  AuditScaleOptions a;
  a.plans_dir = HOURBANK_BENCH_PLANS_DIR;
  a.hourbank_exe = HOURBANK_BENCH_HOURBANK_EXE;
  auto* aud = cli.add_subcommand(
      "audit",
      "How `hourbank audit` scales: rebuild, verify and audit times from 100 k events up\n"
      "  e.g. hourbank-bench audit --sizes 100000,1000000,3000000 --work-dir /tmp/aud");
  aud->add_option("--sizes", a.sizes, "ledger sizes in events (generated once per work dir)")
      ->delimiter(',');
  aud->add_option("--clients", a.clients, "clients")->check(CLI::Range(1u, 100000u));
  aud->add_option("--repeat", a.repeat, "best of this many runs")->check(CLI::Range(1u, 20u));
  aud->add_option("--work-dir", a.work_dir, "where the ledgers are generated (and reused)")
      ->required();
  aud->add_option("--hourbank", a.hourbank_exe, "the hourbank executable");

  NatsAppendsOptions na;
  auto* app_cmd = cli.add_subcommand(
      "appends",
      "Single durable appends, 1 and 8 writers: a ledger directory vs a NATS ledger (1, 2, 4 "
      "streams)\n  e.g. hourbank-bench appends --nats nats://127.0.0.1:4222 --work-dir /tmp/ap");
  app_cmd->add_option("--nats", na.nats_url, "a NATS JetStream server or cluster (nats://…)");
  app_cmd->add_option("--work-dir", na.work_dir, "where the directory ledgers go")->required();
  app_cmd->add_option("--seconds", na.seconds, "per row")->check(CLI::Range(0.1, 60.0));

  FollowBenchOptions fo;
  auto* follow = cli.add_subcommand(
      "follow",
      "Catching up a serve node's store from a NATS ledger vs reading a ledger directory\n"
      "  e.g. hourbank-bench follow --nats nats://127.0.0.1:4222 --work-dir /tmp/fo");
  follow->add_option("--nats", fo.nats_url, "a NATS JetStream server or cluster")->required();
  follow->add_option("--work-dir", fo.work_dir, "where the directory ledger and the store go")
      ->required();
  follow->add_option("--events", fo.events, "events to load")->check(CLI::Range(8, 10000000));

  CLI11_PARSE(cli, argc, argv);
  if (aud->parsed()) return AuditScale(a);
  if (follow->parsed()) return FollowBench(fo);
  if (app_cmd->parsed()) return NatsAppends(na);

  if (gen->parsed()) {
    auto rep = Generate(g);
    if (!rep.ok()) {
      std::fprintf(stderr, "hourbank-bench generate: %s\n", rep.error().message.c_str());
      return 1;
    }
    std::printf("%s\n", fmt::format("generated {} events ({} work entries, {} refused decisions) "
                                    "for {} clients in {:.2f} s "
                                    "({:.0f} events/s)",
                                    rep->events, rep->work_entries, rep->rejected, g.clients,
                                    rep->seconds, double(rep->events) / rep->seconds)
                            .c_str());
    return 0;
  }
  if (run->parsed() || append->parsed()) {
    RunOptions& o = run->parsed() ? r : ap;
    if (!(run->parsed() ? events_given : ap_events_given) && o.quick) o.events = 20000;
    if (o.quick && o.clients == 50) o.clients = 20;
    if (o.work_dir.empty()) {
      char tmpl[] = "/tmp/hourbank-bench-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) {
        std::perror("mkdtemp");
        return 1;
      }
      o.work_dir = tmpl;
    }
    return run->parsed() ? RunBench(o) : RunAppendBench(o);
  }
  if (once->parsed()) return RebuildOnce(once_dir, once_repeat);
  return 2;
}
