// e2e_rpc_client: a test-only client of `hourbank serve --rpc-listen` (schemas/rpc.capnp), and
// a small example of following the log from a program.
//
//   e2e_rpc_client HOST:PORT TOKEN balance CLIENT [AS_OF]     -> the JSON
//   e2e_rpc_client HOST:PORT TOKEN invoice CLIENT MONTH       -> the JSON
//   e2e_rpc_client HOST:PORT TOKEN report CLIENT MONTH        -> the JSON
//   e2e_rpc_client HOST:PORT TOKEN logwork CLIENT BODY_JSON   -> the JSON
//   e2e_rpc_client HOST:PORT TOKEN accept|void|pay CLIENT BODY_JSON -> the JSON
//   e2e_rpc_client HOST:PORT TOKEN burned CLIENT [FROM [TO]]  -> the JSON
//   e2e_rpc_client HOST:PORT TOKEN sla CLIENT MONTH           -> the JSON
//   e2e_rpc_client HOST:PORT TOKEN events CLIENT AFTER LIMIT  -> "SEQ CLIENT TYPE" per event, then
//   "more 0|1 next N" e2e_rpc_client HOST:PORT TOKEN subscribe FROM N SECONDS   -> "subscribed",
//   then "SEQ CLIENT" per event;
//                                                               exits 0 after N events, 2 on
//                                                               timeout
//   e2e_rpc_client HOST:PORT TOKEN watch FROM SECONDS         -> "subscribed", then "SEQ CLIENT"
//   per event until
//                                                               the server ends the connection
//                                                               ("disconnected", exit 3); 2 if it
//                                                               is still open after SECONDS
// Any RPC failure: "error: DESCRIPTION" on stderr, exit 1.
// With E2E_RPC_CACERT=CA.pem in the environment the connection is TLS (serve --tls-cert), the
// server's certificate verified against CA.pem for the name "localhost".
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fstream>
#include <sstream>

#include <capnp/ez-rpc.h>
#include <capnp/rpc-twoparty.h>
#include <kj/compat/tls.h>
#include <capnp/serialize.h>
#include <kj/async-io.h>
#include <kj/async.h>
#include <kj/debug.h>

#include "schemas/events.capnp.h"
#include "schemas/rpc.capnp.h"

namespace rpc = hourbank::schemas::rpc;

namespace {

// The seq and clientId decoded from stored Event bytes (checks the bytes are an Event).
std::string Describe(capnp::Data::Reader bytes) {
  if (bytes.size() % sizeof(capnp::word) != 0) return "undecodable";
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  memcpy(words.begin(), bytes.begin(), bytes.size());
  capnp::FlatArrayMessageReader reader(words);
  auto event = reader.getRoot<hourbank::schemas::Event>();
  return std::to_string(event.getSeq()) + " " + event.getClientId().cStr();
}

class Receiver final : public rpc::EventReceiver::Server {
 public:
  Receiver(uint64_t want, kj::Own<kj::PromiseFulfiller<void>> done)
      : want_(want), done_(kj::mv(done)) {}

  kj::Promise<void> onEvent(OnEventContext context) override {
    auto p = context.getParams();
    const std::string described = Describe(p.getEvent());
    // The envelope's seq must be the seq the server announced.
    if (described.substr(0, described.find(' ')) != std::to_string(p.getSeq()))
      std::printf("mismatch %llu %s\n", static_cast<unsigned long long>(p.getSeq()),
                  described.c_str());
    else
      std::printf("%s\n", described.c_str());
    std::fflush(stdout);
    if (++got_ == want_) done_->fulfill();
    return kj::READY_NOW;
  }

 private:
  uint64_t want_;
  uint64_t got_ = 0;
  kj::Own<kj::PromiseFulfiller<void>> done_;
};

int Usage() {
  std::fprintf(
      stderr,
      "usage: e2e_rpc_client HOST:PORT TOKEN "
      "balance|invoice|report|burned|sla|logwork|accept|void|pay|events|subscribe ARGS…\n");
  return 64;
}

int Commands(rpc::Ledger::Client ledger, kj::WaitScope& ws, kj::Timer& timer, int argc,
             char** argv);

int Run(int argc, char** argv) {
  if (argc < 4) return Usage();
  if (const char* ca = std::getenv("E2E_RPC_CACERT")) {
    std::ifstream in(ca);
    std::stringstream pem;
    pem << in.rdbuf();
    auto io = kj::setupAsyncIo();
    kj::TlsCertificate cert(kj::StringPtr(pem.str().c_str()));
    kj::TlsContext::Options options;
    options.useSystemTrustStore = false;
    options.trustedCertificates = kj::arrayPtr(&cert, 1);
    kj::TlsContext tls(kj::mv(options));
    auto addr = io.provider->getNetwork().parseAddress(argv[1]).wait(io.waitScope);
    auto stream =
        tls.wrapClient(addr->connect().wait(io.waitScope), "localhost").wait(io.waitScope);
    capnp::TwoPartyClient client(*stream);
    return Commands(client.bootstrap().castAs<rpc::Ledger>(), io.waitScope, io.provider->getTimer(),
                    argc, argv);
  }
  capnp::EzRpcClient client(argv[1]);
  return Commands(client.getMain<rpc::Ledger>(), client.getWaitScope(),
                  client.getIoProvider().getTimer(), argc, argv);
}

int Commands(rpc::Ledger::Client ledger, kj::WaitScope& ws, kj::Timer& timer, int argc,
             char** argv) {
  auto auth = ledger.authenticateRequest();
  auth.setToken(argv[2]);
  auto authed = auth.send().wait(ws);
  auto session = authed.getSession();
  const std::string cmd = argv[3];
  auto arg = [&](int i) -> const char* { return i < argc ? argv[i] : ""; };

  if (cmd == "balance") {
    auto r = session.balanceRequest();
    r.setClient(arg(4));
    r.setAsOf(arg(5));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "invoice" || cmd == "report") {
    if (cmd == "invoice") {
      auto r = session.invoiceRequest();
      r.setClient(arg(4));
      r.setMonth(arg(5));
      std::printf("%s\n", r.send().wait(ws).getJson().cStr());
    } else {
      auto r = session.reportRequest();
      r.setClient(arg(4));
      r.setMonth(arg(5));
      std::printf("%s\n", r.send().wait(ws).getJson().cStr());
    }
  } else if (cmd == "logwork") {
    auto r = session.logWorkRequest();
    r.setClient(arg(4));
    r.setRequestJson(arg(5));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "accept" || cmd == "void" || cmd == "pay") {
    auto send = [&](auto r) {
      r.setClient(arg(4));
      r.setRequestJson(arg(5));
      std::printf("%s\n", r.send().wait(ws).getJson().cStr());
    };
    if (cmd == "accept")
      send(session.acceptRequest());
    else if (cmd == "void")
      send(session.voidEntryRequest());
    else
      send(session.payRequest());
  } else if (cmd == "buy" || cmd == "adjust" || cmd == "close" || cmd == "incident" ||
             cmd == "writedown" || cmd == "review") {
    auto send = [&](auto r) {
      r.setClient(arg(4));
      r.setRequestJson(arg(5));
      std::printf("%s\n", r.send().wait(ws).getJson().cStr());
    };
    if (cmd == "buy")
      send(session.buyRequest());
    else if (cmd == "adjust")
      send(session.adjustRequest());
    else if (cmd == "close")
      send(session.closeRequest());
    else if (cmd == "writedown")
      send(session.writeDownRequest());
    else if (cmd == "review")
      send(session.reviewRequest());
    else
      send(session.incidentRequest());
  } else if (cmd == "closeall" || cmd == "addclient" || cmd == "defineplans") {
    auto send = [&](auto r) {
      r.setRequestJson(arg(4));
      std::printf("%s\n", r.send().wait(ws).getJson().cStr());
    };
    if (cmd == "closeall")
      send(session.closeAllRequest());
    else if (cmd == "addclient")
      send(session.addClientRequest());
    else
      send(session.definePlansRequest());
  } else if (cmd == "contract") {
    auto r = session.contractRequest();
    r.setClient(arg(4));
    r.setAction(arg(5));
    r.setRequestJson(arg(6));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "clients") {
    std::printf("%s\n", session.clientsRequest().send().wait(ws).getJson().cStr());
  } else if (cmd == "plans") {
    std::printf("%s\n", session.plansRequest().send().wait(ws).getJson().cStr());
  } else if (cmd == "plan") {
    auto r = session.planRequest();
    r.setId(arg(4));
    r.setVersion(static_cast<uint32_t>(std::strtoul(arg(5), nullptr, 10)));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "statement") {
    auto r = session.statementRequest();
    r.setClient(arg(4));
    r.setMonth(arg(5));
    r.setMonths(static_cast<uint32_t>(std::strtoul(arg(6), nullptr, 10)));
    r.setFormat(arg(7));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "forecast") {  // CLIENT AS_OF WINDOW MONTHS FORMAT
    auto r = session.forecastRequest();
    r.setClient(arg(4));
    r.setAsOf(arg(5));
    r.setWindowDays(static_cast<uint32_t>(std::strtoul(arg(6), nullptr, 10)));
    r.setMonths(static_cast<uint32_t>(std::strtoul(arg(7), nullptr, 10)));
    r.setFormat(arg(8));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "whatif") {  // CLIENT PLAN FROM TO FORMAT
    auto r = session.whatifRequest();
    r.setClient(arg(4));
    r.setPlan(arg(5));
    r.setFrom(arg(6));
    r.setTo(arg(7));
    r.setFormat(arg(8));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "burned") {
    auto r = session.burnedRequest();
    r.setClient(arg(4));
    r.setFrom(arg(5));
    r.setTo(arg(6));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "sla") {
    auto r = session.slaRequest();
    r.setClient(arg(4));
    r.setMonth(arg(5));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "reviewlist") {
    auto r = session.reviewListRequest();
    r.setClient(arg(4));
    r.setMonth(arg(5));
    std::printf("%s\n", r.send().wait(ws).getJson().cStr());
  } else if (cmd == "atleast") {  // POSITION WAIT_MS
    auto r = session.atLeastRequest();
    r.setPosition(std::strtoull(arg(4), nullptr, 10));
    r.setWaitMs(static_cast<uint32_t>(std::strtoul(arg(5), nullptr, 10)));
    r.send().wait(ws);
    std::printf("ok\n");
  } else if (cmd == "events") {
    auto r = session.eventsRequest();
    r.setClient(arg(4));
    r.setAfterSeq(std::strtoull(arg(5), nullptr, 10));
    r.setLimit(static_cast<uint32_t>(std::strtoul(arg(6), nullptr, 10)));
    auto answer = r.send().wait(ws);
    for (auto bytes : answer.getEvents()) std::printf("%s\n", Describe(bytes).c_str());
    std::printf("more %d next %llu\n", answer.getMore() ? 1 : 0,
                static_cast<unsigned long long>(answer.getNextAfterSeq()));
  } else if (cmd == "subscribe") {
    if (argc < 7) return Usage();
    const uint64_t from = std::strtoull(argv[4], nullptr, 10);
    const uint64_t want = std::strtoull(argv[5], nullptr, 10);
    const long seconds = std::strtol(argv[6], nullptr, 10);
    auto done = kj::newPromiseAndFulfiller<void>();
    auto r = session.subscribeRequest();
    r.setFromSeq(from);
    r.setReceiver(kj::heap<Receiver>(want, kj::mv(done.fulfiller)));
    auto answer = r.send().wait(ws);
    auto handle = answer.getHandle();  // kept until we exit: dropping it ends the stream
    std::printf("subscribed\n");
    std::fflush(stdout);
    if (want == 0) return 0;
    bool timed_out = false;
    done.promise
        .exclusiveJoin(
            timer.afterDelay(seconds * kj::SECONDS).then([&timed_out] { timed_out = true; }))
        .wait(ws);
    if (timed_out) {
      std::fprintf(stderr, "timeout: fewer than %llu events within %ld s\n",
                   static_cast<unsigned long long>(want), seconds);
      return 2;
    }
  } else if (cmd == "watch") {
    if (argc < 6) return Usage();
    auto r = session.subscribeRequest();
    r.setFromSeq(std::strtoull(argv[4], nullptr, 10));
    auto never = kj::newPromiseAndFulfiller<void>();
    r.setReceiver(kj::heap<Receiver>(UINT64_MAX, kj::mv(never.fulfiller)));
    auto answer = r.send().wait(ws);
    auto handle = answer.getHandle();
    std::printf("subscribed\n");
    std::fflush(stdout);
    const auto deadline = timer.now() + std::strtol(argv[5], nullptr, 10) * kj::SECONDS;
    // A bootstrap call every 100 ms tells whether the connection is still there.
    while (timer.now() < deadline) {
      timer.afterDelay(100 * kj::MILLISECONDS).wait(ws);
      auto probe = ledger.authenticateRequest();
      probe.setToken("probe");
      auto result = probe.send()
                        .then([](auto&&) { return 0; },
                              [](kj::Exception&& e) {
                                return e.getType() == kj::Exception::Type::DISCONNECTED ? 3 : 0;
                              })
                        .wait(ws);
      if (result == 3) {
        std::printf("disconnected\n");
        return 3;
      }
    }
    return 2;
  } else {
    return Usage();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const kj::Exception& e) {
    std::fprintf(stderr, "error: %s\n", e.getDescription().cStr());
    return 1;
  }
}
