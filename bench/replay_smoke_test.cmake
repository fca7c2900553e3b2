# ctest script: flowgen | engine-replay on ~50k ops; checks that the replay
# succeeds and prints the summary line with every key.
#   cmake -DFLOWGEN=<path> -DREPLAY=<path> -P replay_smoke_test.cmake
execute_process(
  COMMAND ${FLOWGEN} --seed 7 --resting 1000 --depth-mean 8 --ops 50000
  COMMAND ${REPLAY} --repeat 2 -
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULTS_VARIABLE rcs)
message(STATUS "engine-replay output:\n${out}")
if(NOT rcs STREQUAL "0;0")
  message(FATAL_ERROR "flowgen | engine-replay failed (exit codes ${rcs}):\n${err}")
endif()
string(STRIP "${out}" out)
string(REGEX MATCH "[^\n]*$" last "${out}")
set(num "[0-9]+")
if(NOT last MATCHES "^commands=${num} trades=${num} volume=${num} resting=${num} hash=[0-9a-f]+ ops_per_sec=${num} p50_ns=${num} p90_ns=${num} p99_ns=${num} p999_ns=${num} max_ns=${num}$")
  message(FATAL_ERROR "summary line missing or malformed: '${last}'")
endif()
# 1000 prefill adds + 50000 ops; a healthy flow trades and keeps orders resting.
if(NOT last MATCHES "^commands=51000 ")
  message(FATAL_ERROR "expected 51000 commands: '${last}'")
endif()
if(last MATCHES " trades=0 " OR last MATCHES " resting=0 ")
  message(FATAL_ERROR "flow did not trade or left no resting orders: '${last}'")
endif()

# A malformed line must fail with exit code 2 and name the line.
set(bad "${CMAKE_CURRENT_BINARY_DIR}/replay_smoke_bad.csv")
file(WRITE "${bad}" "# header\nA,X,1,B,100,5,GTC\nA,X,2,Q,100,5,GTC\n")
execute_process(COMMAND ${REPLAY} "${bad}" RESULT_VARIABLE rc ERROR_VARIABLE err
                OUTPUT_QUIET)
file(REMOVE "${bad}")
if(NOT rc EQUAL 2 OR NOT err MATCHES "replay_smoke_bad.csv:3:")
  message(FATAL_ERROR "bad line: expected exit 2 naming line 3, got ${rc}: ${err}")
endif()
