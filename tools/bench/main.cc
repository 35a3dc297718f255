// hourbank-bench: a synthetic ledger generator and the benchmark of DESIGN.md §5.
//
//   hourbank-bench generate --ledger DIR --events N --clients K [--months M] [--seed S]
//   hourbank-bench run [--json] [--events N] [--quick] [--no-peers]
//   hourbank-bench append [--json] [--events N] [--quick] [--no-peers]   (the append rows only)
//
// See docs/performance.md for the figures and how to read them.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/bench/bench.h"
#include "tools/bench/run.h"

namespace {

using namespace hourbank::bench;
using hourbank::Result;
namespace ledger = hourbank::ledger;

// One subcommand: its CLI11 app and what runs when it was given.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command AddGenerate(CLI::App& cli) {
  auto g = std::make_shared<GenerateOptions>();
  g->plans_dir = HOURBANK_BENCH_PLANS_DIR;
  auto* gen = cli.add_subcommand(
      "generate",
      "Write a deterministic synthetic ledger through the append path\n"
      "  e.g. hourbank-bench generate --ledger /tmp/big --events 1000000 --clients 200");
  gen->add_option("--ledger", g->ledger_dir, "new ledger directory")->required();
  gen->add_option("--events", g->events, "events to write (about)")
      ->check(CLI::Range(uint64_t(10), uint64_t(100000000)));
  gen->add_option("--clients", g->clients, "clients, spread over every plan")
      ->check(CLI::Range(1u, 100000u));
  gen->add_option("--months", g->months, "months of work, from 2024-01")
      ->check(CLI::Range(1u, 600u));
  gen->add_option("--seed", g->seed, "generator seed (same seed, same ledger)");
  gen->add_option("--plans", g->plans_dir, "directory of plan *.toml files");
  return {gen, [g] {
            auto rep = Generate(*g);
            if (!rep.ok()) {
              std::fprintf(stderr, "hourbank-bench generate: %s\n", rep.error().message.c_str());
              return 1;
            }
            std::printf("%s\n",
                        fmt::format("generated {} events ({} work entries, {} refused decisions) "
                                    "for {} clients in {:.2f} s ({:.0f} events/s)",
                                    rep->events, rep->work_entries, rep->rejected, g->clients,
                                    rep->seconds, double(rep->events) / rep->seconds)
                            .c_str());
            return 0;
          }};
}

// `run` and `append`: --quick sizes unless given, and a scratch directory. False: none made.
bool Prepare(RunOptions& o, bool events_given) {
  if (!events_given && o.quick) o.events = 20000;
  if (o.quick && o.clients == 50) o.clients = 20;
  if (!o.work_dir.empty()) return true;
  char tmpl[] = "/tmp/hourbank-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return false;
  }
  o.work_dir = tmpl;
  return true;
}

Command AddRun(CLI::App& cli) {
  auto r = std::make_shared<RunOptions>();
  r->plans_dir = HOURBANK_BENCH_PLANS_DIR;
  r->hourbank_exe = HOURBANK_BENCH_HOURBANK_EXE;
  auto events_given = std::make_shared<bool>(false);
  auto* run = cli.add_subcommand(
      "run",
      "Measure every figure (table, or --json) against db_bench, PostgreSQL, hledger, ledger\n"
      "  e.g. hourbank-bench run --json > bench.json");
  run->add_flag("--json", r->json, "JSON on stdout instead of the table");
  run->add_option("--events", r->events, "events in the benchmark ledger")
      ->check(CLI::Range(uint64_t(1000), uint64_t(10000000)))
      ->each([events_given](const std::string&) { *events_given = true; });
  run->add_option("--clients", r->clients, "clients")->check(CLI::Range(1u, 100000u));
  run->add_flag("--quick", r->quick, "small sizes: under a minute");
  run->add_flag("!--no-peers", r->peers, "skip db_bench, PostgreSQL, hledger, ledger-cli");
  run->add_option("--work-dir", r->work_dir, "scratch directory (default: a new one under /tmp)");
  run->add_flag("--keep", r->keep, "keep the scratch directory");
  run->add_option("--plans", r->plans_dir, "directory of plan *.toml files");
  run->add_option("--hourbank", r->hourbank_exe, "the hourbank executable (for `serve`)");
  run->add_option("--profile", r->profile_dir,
                  "perf record -e cpu-clock -g the slowest phase (the largest rebuild) into DIR");
  run->add_flag("--ten-million", r->ten_million,
                "add a 10 M-event ledger to the rebuild growth rows (minutes; not in CI)");
  return {run, [r, events_given] { return Prepare(*r, *events_given) ? RunBench(*r) : 1; }};
}

Command AddAppend(CLI::App& cli) {
  auto ap = std::make_shared<RunOptions>();
  ap->plans_dir = HOURBANK_BENCH_PLANS_DIR;
  ap->hourbank_exe = HOURBANK_BENCH_HOURBANK_EXE;
  auto events_given = std::make_shared<bool>(false);
  auto* append = cli.add_subcommand(
      "append",
      "Only the append rows of `run`: bulk append beside db_bench fillseq and PostgreSQL,\n"
      "  1 and 8 durable writers  e.g. hourbank-bench append --quick");
  append->add_flag("--json", ap->json, "JSON on stdout instead of the table");
  append->add_option("--events", ap->events, "events generated, then re-appended")
      ->check(CLI::Range(uint64_t(1000), uint64_t(10000000)))
      ->each([events_given](const std::string&) { *events_given = true; });
  append->add_option("--clients", ap->clients, "clients")->check(CLI::Range(1u, 100000u));
  append->add_flag("--quick", ap->quick, "20 000 events, 0.5 s per writers row");
  append->add_flag("!--no-peers", ap->peers, "skip db_bench and PostgreSQL");
  append->add_option("--work-dir", ap->work_dir,
                     "scratch directory (default: a new one under /tmp)");
  append->add_flag("--keep", ap->keep, "keep the scratch directory");
  append
      ->add_option("--ledger", ap->source_ledger,
                   "re-append this ledger's events instead of generating one (callgrind)")
      ->check(CLI::ExistingDirectory);
  append->add_flag("!--no-writers", ap->writers,
                   "only the bulk append row (repeatable instruction counts under callgrind)");
  return {append,
          [ap, events_given] { return Prepare(*ap, *events_given) ? RunAppendBench(*ap) : 1; }};
}

Command AddRebuildOnce(CLI::App& cli) {
  auto dir = std::make_shared<std::string>();
  auto repeat = std::make_shared<uint32_t>(1);
  auto* once = cli.add_subcommand(
      "rebuild-once", "(internal) rebuild a ledger and print events, seconds, peak RSS");
  once->group("");
  once->add_option("--ledger", *dir)->required();
  once->add_option("--repeat", *repeat,
                   "rebuild this many times (for profiling); the last is reported")
      ->check(CLI::Range(1u, 100u));
  return {once, [dir, repeat] { return RebuildOnce(*dir, *repeat); }};
}

Command AddAudit(CLI::App& cli) {
  auto a = std::make_shared<AuditScaleOptions>();
  a->plans_dir = HOURBANK_BENCH_PLANS_DIR;
  a->hourbank_exe = HOURBANK_BENCH_HOURBANK_EXE;
  auto* aud = cli.add_subcommand(
      "audit",
      "How `hourbank audit` scales: rebuild, verify and audit times from 100 k events up\n"
      "  e.g. hourbank-bench audit --sizes 100000,1000000,3000000 --work-dir /tmp/aud");
  aud->add_option("--sizes", a->sizes, "ledger sizes in events (generated once per work dir)")
      ->delimiter(',');
  aud->add_option("--clients", a->clients, "clients")->check(CLI::Range(1u, 100000u));
  aud->add_option("--repeat", a->repeat, "best of this many runs")->check(CLI::Range(1u, 20u));
  aud->add_option("--work-dir", a->work_dir, "where the ledgers are generated (and reused)")
      ->required();
  aud->add_option("--hourbank", a->hourbank_exe, "the hourbank executable");
  return {aud, [a] { return AuditScale(*a); }};
}

Command AddNatsAppends(CLI::App& cli) {
  auto na = std::make_shared<NatsAppendsOptions>();
  auto* app_cmd = cli.add_subcommand(
      "appends",
      "Single durable appends, 1 and 8 writers: a ledger directory vs a NATS ledger (1, 2, 4 "
      "streams)\n  e.g. hourbank-bench appends --nats nats://127.0.0.1:4222 --work-dir /tmp/ap");
  app_cmd->add_option("--nats", na->nats_url, "a NATS JetStream server or cluster (nats://…)");
  app_cmd->add_option("--work-dir", na->work_dir, "where the directory ledgers go")->required();
  app_cmd->add_option("--seconds", na->seconds, "per row")->check(CLI::Range(0.1, 60.0));
  return {app_cmd, [na] { return NatsAppends(*na); }};
}

Command AddFollow(CLI::App& cli) {
  auto fo = std::make_shared<FollowBenchOptions>();
  auto* follow = cli.add_subcommand(
      "follow",
      "Catching up a serve node's store from a NATS ledger vs reading a ledger directory\n"
      "  e.g. hourbank-bench follow --nats nats://127.0.0.1:4222 --work-dir /tmp/fo");
  follow->add_option("--nats", fo->nats_url, "a NATS JetStream server or cluster")->required();
  follow->add_option("--work-dir", fo->work_dir, "where the directory ledger and the store go")
      ->required();
  follow->add_option("--events", fo->events, "events to load")->check(CLI::Range(8, 10000000));
  return {follow, [fo] { return FollowBench(*fo); }};
}

// Balance over HTTP alone (the rows of `run`), on an existing ledger: for trying server changes.
Command AddHttp(CLI::App& cli) {
  struct HttpArgs {
    std::string ledger_dir, hourbank_exe = HOURBANK_BENCH_HOURBANK_EXE;
    size_t queries = kHttpQueries;
    uint32_t connections = 8;
    int timeout = 120;
  };
  auto h = std::make_shared<HttpArgs>();
  auto* http = cli.add_subcommand(
      "http",
      "Balance reads over HTTP from several keep-alive connections against `hourbank serve`,\n"
      "  measured twice on one server: all connections driven by one event-driven (epoll)\n"
      "  client thread (the figure the p99 <= 1 ms target is judged on), then one blocking\n"
      "  client thread per connection (for comparison)\n"
      "  e.g. hourbank-bench http --ledger /tmp/big --connections 8 --queries 20000");
  http->add_option("--ledger", h->ledger_dir, "an existing ledger (hourbank-bench generate)")
      ->required();
  http->add_option("--queries", h->queries, "measured reads, each way")
      ->check(CLI::Range(10, 10000000));
  http->add_option("--connections", h->connections, "concurrent keep-alive connections")
      ->check(CLI::Range(1, 256));
  http->add_option("--timeout", h->timeout,
                   "seconds a measured run (or one blocking read) may take before what is left "
                   "counts as failed")
      ->check(CLI::Range(1, 3600));
  http->add_option("--hourbank", h->hourbank_exe, "the hourbank executable (for `serve`)");
  return {http, [h] {
            HttpLoadOptions o{.hourbank_exe = h->hourbank_exe,
                              .ledger_dir = h->ledger_dir,
                              .log_path = h->ledger_dir + ".serve.log",
                              .queries = h->queries,
                              .connections = h->connections,
                              .timeout_seconds = h->timeout};
            {
              ledger::Options ro;
              ro.read_only = true;
              auto log = ledger::Log::Open(h->ledger_dir, ro);
              auto rb = log.ok() ? Rebuild(**log) : Result<RebuildResult>(log.error());
              if (!rb.ok()) {
                std::fprintf(stderr, "hourbank-bench http: %s\n", rb.error().message.c_str());
                return 1;
              }
              for (const auto& [id, s] : rb->states) o.ids.push_back(id);
              o.now = HttpClockFor(rb->states);
            }
            const HttpFigures both = HttpBalance(o);
            int rc = 0;
            for (const HttpFigure* f : {&both.event_loop, &both.threads}) {
              const std::string how = f == &both.event_loop
                                          ? "1 event-driven client thread"
                                          : fmt::format("{} client threads", o.connections);
              if (!f->ok) {
                std::fprintf(stderr, "hourbank-bench http (%s): %s\n", how.c_str(),
                             f->skipped.c_str());
                rc = 1;
                continue;
              }
              std::printf(
                  "%zu clients, %u connections (%s), %zu reads at %s: p50 %.0f us, p99 %.0f us; "
                  "%.0f reads/s; server CPU %lld us per read\n",
                  o.ids.size(), o.connections, how.c_str(), f->latencies_us.size(), o.now.c_str(),
                  Percentile(f->latencies_us, 0.5), Percentile(f->latencies_us, 0.99),
                  double(f->latencies_us.size()) / f->seconds,
                  static_cast<long long>(f->server_cpu_us / int64_t(f->latencies_us.size())));
            }
            return rc;
          }};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{
      "hourbank-bench: synthetic ledgers and the performance figures of DESIGN.md section 5"};
  cli.require_subcommand(1);
  const std::vector<Command> commands = {AddGenerate(cli),    AddRun(cli),   AddAppend(cli),
                                         AddRebuildOnce(cli), AddAudit(cli), AddNatsAppends(cli),
                                         AddFollow(cli),      AddHttp(cli)};
  CLI11_PARSE(cli, argc, argv);
  for (const Command& c : commands)
    if (c.app->parsed()) return c.run();
  return 2;
}
