#!/usr/bin/env bash
# The bounded extra CI steps (called at the end of tools/test.sh):
#   0. a Release build with the default flags (what a user builds);
#   1. ASan+UBSan build (build-asan, -DHOURBANK_SANITIZE=ON) and every unit-test executable
#      run there;
#   2. libFuzzer targets (build-fuzz, clang, -DHOURBANK_FUZZ=ON), each run for
#      HOURBANK_FUZZ_SECONDS (default 30) from its seed corpus in tests/fuzz/corpus/.
# Budget: <= 12 minutes on 2 cores (the builds dominate; the fuzz runs take 5 x 30 s).
# The sanitizer build uses the default compiler (g++, like the Debian libraries); the fuzz
# step needs clang and is skipped with a printed reason when clang is missing (under CI=true a
# missing clang is a failure).
#   3. tools/mutate.sh: a rotating subset of the mutation list (see docs/guarantees.md).
# Knobs: HOURBANK_FUZZ_SECONDS=600 for longer fuzzing; HOURBANK_MUTANTS=N mutants (0 = none);
# HOURBANK_CI_EXTRA=0 to skip.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [[ "${HOURBANK_CI_EXTRA:-1}" == 0 ]]; then
  echo "ci_extra: skipped (HOURBANK_CI_EXTRA=0)"
  exit 0
fi
jobs=$(nproc)
fuzz_seconds=${HOURBANK_FUZZ_SECONDS:-30}
start=$(date +%s)
stamp() { echo "ci_extra: [$(( $(date +%s) - start )) s] $*"; }

# ---- 0. a user's Release build: default flags (no -Werror), -O3. GCC 12 reports -Wrestrict
# false positives at -O3 in char_traits.h (from units.cc and the ledger tests): they must stay
# warnings. The `hourbank` executable is built (every library: ledger, projections, reports,
# service, with units.cc where the warning comes from); the tests are built in the
# RelWithDebInfo build of tools/test.sh. `cmake --build build-release` builds everything.
stamp "building build-release (Release, default flags)"
release_launcher=()
command -v ccache >/dev/null && release_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release "${release_launcher[@]}" >/dev/null
cmake --build build-release -j"$jobs" --target hourbank
build-release/tools/hourbank --help >/dev/null

# ---- 1. sanitizers
stamp "building build-asan (ASan+UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHOURBANK_SANITIZE=ON >/dev/null
unit_tests=(ledger_tests units_tests plan_tests scenario_tests sla_tests statement_tests reports_tests fault_tests
            property_tests csv_tests billing_rules_tests service_tests forecast_tests whatif_tests
            billing_increments_tests review_tests sla_wait_tests sla_credit_tests alerts_tests
            service_alerts_tests service_webhooks_tests service_cache_tests month_pack_tests)
targets=()
known=$(cmake --build build-asan --target help)   # not piped into grep -q: SIGPIPE + pipefail
for t in "${unit_tests[@]}"; do
  if grep -qx "\.\.\. $t" <<<"$known"; then targets+=("$t")
  else echo "ci_extra: FAILED: unit-test target $t does not exist any more (update tools/ci_extra.sh)"; exit 1
  fi
done
cmake --build build-asan -j"$jobs" --target "${targets[@]}" ledger_lock_holder
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
for t in "${targets[@]}"; do
  exe=$(find build-asan/tests -type f -name "$t" -perm -u+x -print -quit)
  [[ -n "$exe" ]] || { echo "ci_extra: FAILED: $t was not built"; failed=1; continue; }
  stamp "asan: $t"
  # The 10 000 random contract lives run in the normal ctest; under ASan (Debug, ~20x slower)
  # 1 000 of them keep this step within its budget.
  if ! HOURBANK_LIVES=1000 "$exe" >"/tmp/ci_extra_$t.log" 2>&1; then
    echo "ci_extra: FAILED under ASan+UBSan: $t"; tail -40 "/tmp/ci_extra_$t.log"; failed=1
  else
    tail -2 "/tmp/ci_extra_$t.log"
  fi
done

# ---- 2. fuzzing
fuzz=1
if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  if [[ "${CI:-}" == true ]]; then
    echo "ci_extra: FAILED: clang/clang++ not found and CI=true (tools/setup.sh installs clang libclang-rt-14-dev)"
    failed=1
  else
    echo "ci_extra: fuzzing skipped: clang/clang++ not found (apt-get install clang libclang-rt-14-dev)"
  fi
  fuzz=0
fi
if [[ $fuzz == 1 ]]; then
stamp "building build-fuzz (libFuzzer)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOURBANK_FUZZ=ON >/dev/null
fuzzers=(fuzz_units fuzz_plan fuzz_event fuzz_csv fuzz_http_body)
cmake --build build-fuzz -j"$jobs" --target "${fuzzers[@]}"
for f in "${fuzzers[@]}"; do
  corpus="$root/tests/fuzz/corpus/${f#fuzz_}"
  work=$(mktemp -d "/tmp/hourbank-$f-XXXXXX")
  stamp "fuzz: $f for ${fuzz_seconds} s"
  # New inputs go to $work (the committed seeds stay as they are); crashes to $work too.
  if ! (cd "$work" && "$root/build-fuzz/tests/fuzz/$f" -max_total_time="$fuzz_seconds" \
          -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" "$corpus" >"$work/log" 2>&1); then
    echo "ci_extra: FUZZ FAILURE in $f (inputs in $work):"; tail -60 "$work/log"; failed=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" | sed "s/^/ci_extra: $f /"
    rm -rf "$work"
  fi
done
fi

# ---- 3. mutation testing: a rotating subset of tools/mutate.sh (3 mutants chosen by the date
# and HEAD; about 3 minutes with the ccache of the main build). The whole list:
# tools/mutate.sh --all. HOURBANK_MUTANTS=0 skips this step; =N runs N mutants.
if [[ "${HOURBANK_MUTANTS:-3}" != 0 ]]; then
  stamp "mutation testing (${HOURBANK_MUTANTS:-3} mutants)"
  if ! tools/mutate.sh --count "${HOURBANK_MUTANTS:-3}"; then
    echo "ci_extra: MUTATION TESTING FAILED: a mutant survived or the runner could not judge one (see above)"
    failed=1
  fi
fi
stamp "done"
exit $failed
