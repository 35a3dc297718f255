// Projection checkpoints: a ClientState saved as bytes and restored, so a read can start from
// the checkpoint and catch up with the events appended after it instead of replaying the
// whole stream. The ledger stores the bytes in its `projections` column family under
// "client/<id>"; this file owns their format (grammar in checkpoint.cc).
//
// Contract: Restore(Save(s)) folds on exactly as s would: for every event e,
// Restore(Save(s)).Apply(e) has the same figures as s.Apply(e). Tested by property tests
// (checkpoint + catch-up == full replay) on random histories.
#pragma once

#include <string>
#include <string_view>

#include "ledger/status.h"
#include "projections/state.h"

namespace hourbank::projections {

inline constexpr int kCheckpointFormatVersion =
    4;  // 4: entries carry non_billable, written_down_minutes, review, review_reason

// The checkpoint's name in the ledger's projections column family.
std::string CheckpointName(std::string_view client_id);

// Serialises the whole state (options included).
std::string SaveCheckpoint(const ClientState& state);

// Restores a state. kCorruption when the bytes are not a checkpoint of this format version
// (the caller then replays from the start).
Result<ClientState> RestoreCheckpoint(std::string_view bytes);

}  // namespace hourbank::projections
