#include "projections/replay_bounds.h"

#include <fmt/format.h>

namespace hourbank::projections {

std::string CheckStoredMoney(schemas::Event::Reader ev) {
  using Body = schemas::Event::Body;
  auto body = ev.getBody();
  const char* field = nullptr;
  int64_t amount = 0;
  switch (body.which()) {
    case Body::PAYMENT_RECEIVED:
      field = "payment amount";
      amount = body.getPaymentReceived().getAmountMinor();
      break;
    case Body::ADJUSTMENT:
      field = "adjustment amount";
      amount = body.getAdjustment().getAmountMinor();
      break;
    case Body::HOURS_PURCHASED:
      field = "hours block price";
      amount = body.getHoursPurchased().getPriceMinor();
      break;
    case Body::ADDON_PURCHASED:
      field = "add-on price";
      amount = body.getAddonPurchased().getPriceMinor();
      break;
    case Body::WORK_VOIDED:
      field = "void credit";
      amount = body.getWorkVoided().getCreditMinor();
      break;
    case Body::PERIOD_CLOSED:
      field = "period total";
      amount = body.getPeriodClosed().getTotalMinor();
      break;
    default:
      return {};
  }
  if (amount >= -kAmountMinorMax && amount <= kAmountMinorMax) return {};
  return fmt::format("{} of {} minor units is beyond ±{}; skipped", field, amount, kAmountMinorMax);
}

}  // namespace hourbank::projections
