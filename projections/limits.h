// Every bound of the domain, once. A name ends with its unit (Us, Minutes, Days, Months, Minor,
// Major, Bytes, Percent, Count) and then what it bounds; the static_asserts below say how the
// bounds depend on each other, so changing one that another relies on fails to compile.
//
// Units that are facts, not choices (µs per second, minutes per hour) live here too. There is
// no µs-per-day constant on purpose: a calendar day in a client's zone is 23, 24 or 25 hours
// long; days are added with Zone::AddLocalDays / Zone::DayStartUs / AddDaysToDate (units.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace hourbank::projections {

// ---- units (facts)
inline constexpr int64_t kUsPerSecond = 1'000'000;
inline constexpr int64_t kSecondsPerMinute = 60;
inline constexpr int64_t kUsPerMinute = kSecondsPerMinute * kUsPerSecond;
inline constexpr int64_t kMinutesPerHour = 60;
inline constexpr int32_t kMinutesPerLocalDayMax =
    24 * 60;  // the clock's minutes 00:00 … 24:00 of one
              // local day (not its length across DST)

// ---- months
// A contract term, prepaid months, a report range, and every walk over months (100 years).
inline constexpr uint32_t kMonthsMax = 1'200;
// Instants beyond this are out of range on replay: 9000-01-01T00:00:00Z.
inline constexpr int64_t kInstantUsMax = 221'845'392'000LL * kUsPerSecond;

// ---- work, blocks and licences (commands and stored events)
// One work entry or one bought block: 10 000 hours (what ParseDurationMinutes admits).
inline constexpr int64_t kMinutesMaxPerEntry = 10'000 * kMinutesPerHour;
inline constexpr int64_t kCountMaxPerEntry = 100'000;        // items in one work entry
inline constexpr uint32_t kUnitsMaxPerContract = 1'000'000;  // licences
inline constexpr uint32_t kCountMaxPerExtra = 1'000;         // quantity of one contract extra
inline constexpr size_t kBytesMaxClientName = 200;
inline constexpr size_t kBytesMaxTask = 200;
inline constexpr size_t kBytesMaxStaff = 100;
inline constexpr size_t kBytesMaxNote = 2'000;
inline constexpr size_t kReviewEntriesMax = 1'000;  // entry ids in one approve/reject
inline constexpr size_t kBytesMaxPaymentRef = 200;
inline constexpr size_t kBytesMaxIncidentId = 100;
inline constexpr int kPriorityMax = 4;  // incident priorities 1 (highest) … 4

// ---- money
// Money typed by a person (ParseMoneyMinor): 10^13 major units.
inline constexpr int64_t kMoneyMajorMaxInput = 10'000'000'000'000;
// One amount in a command (pay, adjust, --price) or in a stored event, either sign: 10^15
// minor units. With every stored amount within it, 9 000 of them sum without overflow.
inline constexpr int64_t kMoneyMinorAbsMax = 1'000'000'000'000'000;
// One price in a plan file.
inline constexpr int64_t kMoneyMinorMaxInPlan = 1'000'000'000'000;

// ---- plans (projections/plan.cc)
inline constexpr int64_t kMinutesMaxInPlan =
    100'000'000;  // durations, caps, block offers (~190 years)
inline constexpr int64_t kPercentMaxMultiplier = 10'000;  // 100x
inline constexpr int64_t kPercentMaxDiscount = 100;
inline constexpr int64_t kDaysMaxInPlan = 3'650;            // grace days, working days
inline constexpr int64_t kUnitsMaxInPlan = 1'000'000'000;   // tier bounds (licences)
inline constexpr int64_t kCountMaxSlotsInPlan = 1'000'000;  // quota and add-on slots per month
inline constexpr size_t kCountMaxPlansPerFile = 256;
inline constexpr size_t kCountMaxPerPlanList = 256;  // kinds, tiers, add-ons, …
inline constexpr size_t kCountMaxHolidays = 1'000;
inline constexpr size_t kBytesMaxPlanText = 4'096;  // name, note
inline constexpr size_t kBytesMaxId = 64;
inline constexpr size_t kBytesMaxTimezone = 64;

// ---- calendars and clocks
// Every walk over calendar days (service time, working days) stops after this many days.
inline constexpr int32_t kDaysMaxCalendarSpan = 3'660;
inline constexpr size_t kCountMaxCalendarZones = 64;  // plan calendar zones cached by a fold
// How far ahead of the clock a command's time may be: clock skew between machines, a duration.
inline constexpr int64_t kMinutesMaxClockSkew = 24 * kMinutesPerHour;

// ---- how the bounds relate
static_assert(kMinutesMaxPerEntry <= kMinutesMaxInPlan,
              "a plan can describe any block a client can buy");
static_assert(kMoneyMinorMaxInPlan <= kMoneyMinorAbsMax, "a plan price fits a stored amount");
static_assert(kMoneyMajorMaxInput * 100 == kMoneyMinorAbsMax,
              "a typed amount of a two-digit currency is exactly the command bound");
static_assert(kMoneyMajorMaxInput * 1000 < std::numeric_limits<int64_t>::max(),
              "money at the largest scale (3 minor digits) fits int64_t");
static_assert(kMoneyMinorAbsMax * 9'000 < std::numeric_limits<int64_t>::max(),
              "9 000 stored amounts sum without overflow");
static_assert(kDaysMaxInPlan <= kDaysMaxCalendarSpan, "a plan's days fit in one calendar walk");
static_assert(
    int64_t{kDaysMaxCalendarSpan + 2} * 25 * 60 * kUsPerMinute <
        std::numeric_limits<int64_t>::max() / 4,
    "a calendar walk's span in µs (days of at most 25 hours) fits int64_t with room to spare");
static_assert(kMinutesMaxPerEntry * kPercentMaxMultiplier / 100 <
                  std::numeric_limits<int32_t>::max(),
              "an entry's minutes times the largest multiplier stay small");
static_assert(kMonthsMax <= 9'999 * 12, "a walk over months stays within the calendar");
// Plan money is bounded so that price x multiplier percent x units stays far inside int64:
// 10^12 minor units (10 000 000 000.00 of a 2-digit currency) x 10^4 percent x 10^3 is 10^19
// only at the extremes of all three at once, which the money code checks anyway.
static_assert(kCountMaxSlotsInPlan <= std::numeric_limits<uint32_t>::max());
static_assert(kUnitsMaxInPlan <= std::numeric_limits<uint32_t>::max());
static_assert(kPercentMaxMultiplier <= std::numeric_limits<uint32_t>::max());
static_assert(kMoneyMinorMaxInPlan <= std::numeric_limits<int64_t>::max() / kPercentMaxMultiplier);
static_assert(kUnitsMaxPerContract <= kUnitsMaxInPlan,
              "a contract's licences fit the plan's tier bounds");

}  // namespace hourbank::projections
