// A closed month's frozen evaluation, packed: ClientState keeps every closed month's MonthEval
// (its invoice lines, pool usage, blocks, closing figures) so invoices and reports of old months
// answer from the state, and those evaluations are most of what a replayed state holds once
// months go by (issue 19: rebuild memory grows with months). Packed, a month is one string of
// varints and length-prefixed texts, about a quarter of the maps, vectors and strings it
// unpacks to. Packing is lossless: UnpackMonthEval(PackMonthEval(e)) == e.
//
// The bytes live only in memory (checkpoints store the unpacked evaluation as JSON), but
// unpacking is still bounded: truncated or garbled bytes give a partial MonthEval (fields past
// the damage are zero, counts are capped by the bytes left), never a crash.
#pragma once

#include <string>
#include <string_view>

#include "projections/state.h"

namespace hourbank::projections {

std::string PackMonthEval(const MonthEval& eval);
MonthEval UnpackMonthEval(std::string_view packed);

}  // namespace hourbank::projections
