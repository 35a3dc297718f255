# bench.smoke: `generate` writes a 2000-event ledger for 5 clients, then `run --quick --no-peers`
# on 2000 events exits 0 and prints the table with both balance-over-HTTP rows, `http` on the
# generated ledger gets 200 answers to every read both ways (event-driven client and client
# threads; any bad answer exits 1; skipped when hourbank is not built), and `append --quick` prints its rows. No timing is asserted.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${BENCH} generate --ledger ${WORK}/ledger --events 2000 --clients 5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "generated [0-9]+ events")
  message(FATAL_ERROR "generate failed (${rc}): ${out} ${err}")
endif()
execute_process(COMMAND ${BENCH} run --quick --events 2000 --clients 5 --no-peers --work-dir ${WORK}/run
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\| what" OR NOT out MATCHES "rebuild"
   OR NOT out MATCHES "1 event-driven client thread" OR NOT out MATCHES "8 client threads")
  message(FATAL_ERROR "run failed (${rc}): ${out} ${err}")
endif()
execute_process(COMMAND ${BENCH} http --ledger ${WORK}/ledger --queries 400 --timeout 60
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(err MATCHES "skipped: no hourbank binary")
  message(STATUS "http: skipped, hourbank is not built")
elseif(NOT rc EQUAL 0 OR NOT out MATCHES "\\(1 event-driven client thread\\), 400 reads"
   OR NOT out MATCHES "\\(8 client threads\\), 400 reads")
  message(FATAL_ERROR "http failed (${rc}): ${out} ${err}")
endif()
execute_process(COMMAND ${BENCH} append --quick --events 2000 --clients 5 --no-peers --work-dir ${WORK}/append
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "bulk append" OR NOT out MATCHES "8 writer")
  message(FATAL_ERROR "append failed (${rc}): ${out} ${err}")
endif()
file(REMOVE_RECURSE ${WORK})
