// Labels for people in English and Russian: section titles, column headers, month names,
// durations, what paid for an entry and invoice line descriptions in the reader's language.
//
// A client's language follows its currency: RUB clients read Russian, every other currency
// English. Identifiers (plan, kind, pool and add-on ids) and text people typed (tasks, notes,
// reasons, plan names) are data: they are shown as written.
//
// Pure functions and constant tables; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "projections/state.h"

namespace hourbank::reports {

enum class Lang { kEn, kRu };

// kRu for "RUB", kEn otherwise.
Lang LangFor(std::string_view currency);

// Every label of the reports; format strings take their arguments in the order of the
// English comment beside them.
struct Labels {
  const char* html_lang;
  const char* title;  // "Statement for {month}"
  const char* client;
  const char* plan;
  const char* version;
  const char* month;
  const char* units;
  const char* term;
  const char* term_open;
  const char* term_months;  // "{} months"
  const char* zone;
  const char* prepared;
  const char* no_contract;
  const char* trial;
  const char* month_closed;
  const char* month_open;
  const char* glance;
  const char* included;
  const char* used;
  const char* used_allowance;
  const char* used_reserve;
  const char* used_blocks;
  const char* overage;
  const char* unlimited;
  const char* reserve_start;
  const char* carried;
  const char* expired;
  const char* reserve_end;
  const char* blocks_left;
  const char* slots;
  const char* pool;
  const char* quota;
  const char* left;
  const char* no_hours;
  const char* chart;           // "Hours, {first} – {last}"
  const char* chart_short;     // column title "Month"
  const char* short_included;  // chart legend and history columns
  const char* short_used;
  const char* short_overage;
  const char* short_carried;
  const char* short_expired;
  const char* hours_axis;
  const char* work;
  const char* when;
  const char* who;
  const char* task;
  const char* kind;
  const char* amount;
  const char* paid_by;
  const char* billed;
  const char* notes;
  const char* no_work;
  const char* work_not_kept;
  const char* work_total;
  const char* item_one;  // "{} item"
  const char* items;     // "{} items"
  const char* urgent;
  const char* off_hours;
  const char* emergency;
  const char* late;
  const char* voided;
  const char* awaiting;
  const char* surcharge;
  const char* invoice;
  const char* item;
  const char* description;
  const char* quantity;
  const char* price;
  const char* sum;
  const char* total;
  const char* invoice_closed;
  const char* invoice_open;
  const char* no_lines;
  const char* per_hour;
  const char* sla;
  const char* sla_incident;
  const char* sla_priority;
  const char* sla_opened;
  const char* sla_reaction;
  const char* sla_resolution;
  const char* sla_status;
  const char* sla_ok;
  const char* sla_breached;
  const char* sla_pending;
  const char* sla_none;
  const char* sla_summary;  // "{total} incidents, {breached} breached, compliance {pct}"
  const char* sla_target;   // "target"
  const char* footer;
  const char* month_names[12];
  const char* month_short[12];
  // Added sections and figures (kept after the month names so the tables above stay as they are).
  const char* allowance_left;
  const char* reserve_left;
  const char* payments;         // section title
  const char* invoiced_closed;  // invoiced in closed months, all time
  const char* paid_total;
  const char* outstanding;
  const char* credit;           // a negative outstanding: paid in advance
  const char* paid_this_month;  // "Payments received in {}"
  const char* payment_date;
  const char* payment_ref;
  const char* no_payments;
  const char* blocked;
  const char* awaiting_title;
  const char* awaiting_none;
  const char* logged;  // "Logged" (awaiting table column)
  // Invoice line descriptions (reports/labels.h LineDescription).
  const char* desc_overage;      // "hours beyond the plan, {}"
  const char* desc_licences;     // "{}, {} licences"
  const char* desc_prepaid;      // "prepaid {} months −{}%"
  const char* desc_timely;       // "timely −{}%"
  const char* desc_in_quota;     // "(in quota)"
  const char* desc_block;        // "prepaid hours {}"
  const char* desc_void_credit;  // "credit for voided entry #{}"
};

// The labels of `lang`; static storage.
const Labels& LabelsFor(Lang lang);

// "February 2026" / "февраль 2026". Precondition: projections::ValidMonth(month).
std::string MonthName(uint32_t month, Lang lang);
// "Feb" / "фев". Precondition: projections::ValidMonth(month).
const char* MonthShort(uint32_t month, Lang lang);

// Durations: English as projections::FormatMinutes ("12h30m", "0m"); Russian "12 ч 30 мин",
// "0 ч". Negative durations get a leading "-".
std::string Duration(int64_t minutes, Lang lang);

// "2026-02-10 12:00": the local date and time of utc_us in `zone`.
std::string LocalDateTime(const projections::Zone& zone, int64_t utc_us);

// Basis points as a percentage with two decimals: 9750 -> "97.50%".
std::string Percent(uint32_t basis_points);

// The name of an invoice line code ("Subscription fee" / "Абонентская плата"); nullptr for a
// code it does not know.
const char* LineLabel(std::string_view code, Lang lang);

// The name of what paid for (part of) an entry: "allowance" / "тариф", "one-off" / "разово".
const char* SourceLabel(projections::Charge::Source source, Lang lang);

// An invoice line's description in `lang`. English: the line's own description (as the
// projection wrote it and the close recorded it). Russian: the same facts in Russian (hours
// beyond the plan, licences, discounts, surcharges, prepaid hours, credits for voided entries);
// names and reasons people wrote are kept as written.
std::string LineDescription(const projections::InvoiceLine& line, Lang lang);

}  // namespace hourbank::reports
