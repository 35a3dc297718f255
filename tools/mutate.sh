#!/usr/bin/env bash
# The mutation runner (tools/mutate.py): one-line wrong changes to the billing rules, roles,
# hash chain and idempotency, each built in a copy of the tree; the tests must catch every one.
#   tools/mutate.sh          a rotating subset of 3 (CI, tools/ci_extra.sh)
#   tools/mutate.sh --all    the whole list (docs/guarantees.md, "Mutation testing")
#   tools/mutate.sh --list | --only ID,ID | --report FILE
exec python3 "$(dirname "$0")/mutate.py" "$@"
