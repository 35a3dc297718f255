#include "tools/hourbank/server/forecasts.h"

#include <memory>
#include <utility>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fmt/format.h>

#include "service/operations.h"

namespace hourbank::cli {

namespace {

// "PLAN" or "PLAN@VERSION" (VERSION 1-999999999): the id and the version (0 = the latest).
Result<std::pair<std::string, uint32_t>> ParsePlanRef(const std::string& text, const char* name) {
  std::string id = text;
  uint32_t version = 0;
  if (const size_t at = id.find('@'); at != std::string::npos) {
    const std::string v = id.substr(at + 1);
    id.resize(at);
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(v) == 0)
      return Error::Invalid(fmt::format("{}: version '{}' is not a number; use PLAN@2", name, v));
    version = uint32_t(std::stoul(v));
  }
  if (id.empty()) return Error::Invalid(fmt::format("{} needs a plan id, e.g. kit-hours-25", name));
  return std::pair{id, version};
}

// The client's stream, each event copied so that the readers outlive the read.
struct StreamCopy {
  std::vector<kj::Array<capnp::word>> words;
  std::vector<std::unique_ptr<capnp::FlatArrayMessageReader>> readers;
  std::vector<std::pair<uint64_t, schemas::Event::Reader>> events;
};

Status CopyStream(const ledger::Log& log, const std::string& client, StreamCopy& out) {
  std::vector<uint64_t> seqs;
  HB_TRY(log.ReadStream(client, 1, 0, [&](const ledger::EventView& v) {
    capnp::MallocMessageBuilder mb;
    mb.setRoot(v.event);
    out.words.push_back(capnp::messageToFlatArray(mb));
    seqs.push_back(v.seq);
    return true;
  }));
  capnp::ReaderOptions ro;
  ro.traversalLimitInWords = uint64_t(1) << 40;
  for (size_t i = 0; i < out.words.size(); ++i) {
    out.readers.push_back(std::make_unique<capnp::FlatArrayMessageReader>(out.words[i], ro));
    out.events.emplace_back(seqs[i], out.readers.back()->getRoot<schemas::Event>());
  }
  return Status::Ok();
}

}  // namespace

Result<reports::Forecast> ForecastOf(service::Session& s, const service::Caller& c,
                                     const std::string& client, const ForecastQuery& q) {
  service::TimeQuery time{q.as_of, "", q.as_of_name, "known_at"};
  auto r = service::ReadClientOp(s, c, service::Operation::kReadForecast, client, time,
                                 /*retain_entries=*/true);
  if (!r.ok()) return r.error();
  reports::ForecastOptions o;
  o.now_us = r.value().at_us;
  o.window_days = q.window_days;
  o.horizon_months = q.horizon_months;
  return reports::MakeForecast(r.value().state, o);
}

Result<reports::WhatIf> WhatIfOf(service::Session& s, const service::Caller& c,
                                 const std::string& client, const WhatIfQuery& q) {
  HB_TRY(service::RequireFor(c, service::Operation::kWhatIf, client));
  auto ref = ParsePlanRef(q.plan, q.plan_name);
  if (!ref.ok()) return ref.error();
  const auto& [id, version] = ref.value();
  auto catalog = s.LoadCatalog();
  if (!catalog.ok()) return catalog.error();
  const projections::Catalog::Version* pv = catalog.value().Find(id, version);
  if (!pv)
    return Error::NotFound(
        version ? fmt::format("plan '{}' has no version {}; see `hourbank plan show {}`", id,
                              version, id)
                : fmt::format("unknown plan '{}'; see `hourbank plan list`", id));
  reports::WhatIfRequest r;
  r.plan_id = id;
  r.plan_version = pv->version;
  r.plan_toml = pv->spec_toml;
  r.from_month = q.from_month;
  r.to_month = q.to_month;
  r.now_us = s.now_us();
  StreamCopy copy;
  if (service::CheckClientId(client).ok()) HB_TRY(CopyStream(s.log(), client, copy));
  if (copy.events.empty()) return service::UnknownClient(client);
  auto w = reports::MakeWhatIf(copy.events, r);
  if (!w.ok() && w.error().code == Code::kNotFound) return service::UnknownClient(client);
  return w;
}

}  // namespace hourbank::cli
