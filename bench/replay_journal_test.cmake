# ctest script: engine-replay --journal on a small flow, with each durability
# policy and with --compare-durability; every journal it leaves must pass
# `journal verify`, and `journal replay` must print the same state hash and
# command count as engine-replay did. Then the error cases (exit 2).
#   cmake -DFLOWGEN=<path> -DREPLAY=<path> -DJOURNAL=<path> -DWORK=<dir>
#         -P replay_journal_test.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(flow "${WORK}/flow.csv")
execute_process(
  COMMAND ${FLOWGEN} --seed 7 --resting 1000 --depth-mean 8 --ops 20000 --out ${flow}
  RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "flowgen failed: ${rc}")
endif()

set(num "[0-9]+")
set(dec "[0-9]+\\.[0-9]")
set(base_keys "commands=${num} trades=${num} volume=${num} resting=${num} hash=[0-9a-f]+ ops_per_sec=${num} p50_ns=${num} p90_ns=${num} p99_ns=${num} p999_ns=${num} max_ns=${num}")

# Runs `journal verify` and `journal replay` on dir; replay's hash and
# command count must be the ones in engine-replay's summary line `last`.
function(check_journal dir last)
  execute_process(COMMAND ${JOURNAL} verify ${dir} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "journal verify ${dir}: exit ${rc}\n${out}${err}")
  endif()
  execute_process(COMMAND ${JOURNAL} replay ${dir} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "journal replay ${dir}: exit ${rc}\n${out}${err}")
  endif()
  string(REGEX MATCH "commands=[0-9]+ trades=[0-9]+ volume=[0-9]+ resting=[0-9]+ hash=[0-9a-f]+"
         want "${last}")
  string(REGEX MATCH "commands=[0-9]+ trades=[0-9]+ volume=[0-9]+ resting=[0-9]+ hash=[0-9a-f]+"
         got "${out}")
  if(want STREQUAL "" OR NOT want STREQUAL got)
    message(FATAL_ERROR "journal replay ${dir} disagrees:\n engine-replay:  ${want}\n journal replay: ${got}")
  endif()
  message(STATUS "${dir}: verify OK, replay ${got}")
endfunction()

# Runs engine-replay with ARGN; returns its last output line in `var`.
function(replay var)
  execute_process(COMMAND ${REPLAY} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  message(STATUS "engine-replay ${ARGN}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "engine-replay ${ARGN}: exit ${rc}\n${err}")
  endif()
  string(STRIP "${out}" out)
  string(REGEX MATCH "[^\n]*$" last "${out}")
  set(${var} "${last}" PARENT_SCOPE)
  set(${var}_all "${out}" PARENT_SCOPE)
endfunction()

set(journal_keys "durability=([a-z]+(:[0-9]+)?) journal_backend=(io_uring|pwrite) journal_cmds_per_sec=${num} journal_mb_per_sec=${dec} batches=${num} mean_batch=${dec} ack_p50_us=${dec} ack_p90_us=${dec} ack_p99_us=${dec} ack_p999_us=${dec} ack_max_us=${dec}")

# Each policy, and the default (fsync) without --durability.
foreach(policy fsync none interval:2 default)
  string(REPLACE ":" "_" name "${policy}")
  set(dir "${WORK}/j_${name}")
  if(policy STREQUAL "default")
    replay(last --journal ${dir} ${flow})
    set(policy fsync)
  else()
    replay(last --journal ${dir} --durability ${policy} ${flow})
  endif()
  if(NOT last MATCHES "^${base_keys} ${journal_keys}$")
    message(FATAL_ERROR "summary line missing or malformed: '${last}'")
  endif()
  if(NOT CMAKE_MATCH_1 STREQUAL policy)
    message(FATAL_ERROR "durability=${CMAKE_MATCH_1}, want ${policy}: '${last}'")
  endif()
  if(NOT last MATCHES "^commands=21000 ")
    message(FATAL_ERROR "expected 21000 commands: '${last}'")
  endif()
  check_journal(${dir} "${last}")
endforeach()

# --compare-durability: off, none, fsync in one run; summary of the fsync run.
set(cmp "${WORK}/cmp")
replay(last --compare-durability ${cmp} ${flow})
if(NOT last MATCHES "^${base_keys} ${journal_keys}$" OR NOT CMAKE_MATCH_1 STREQUAL "fsync")
  message(FATAL_ERROR "compare: summary line missing or malformed: '${last}'")
endif()
foreach(row "\n +off +[0-9]" "\n +off\\+stamps +[0-9]" "\n +none +[0-9]" "\n +fsync +[0-9]")
  if(NOT last_all MATCHES "${row}")
    message(FATAL_ERROR "compare: table row '${row}' missing:\n${last_all}")
  endif()
endforeach()
check_journal(${cmp}/none "${last}")
check_journal(${cmp}/fsync "${last}")
# The unjournaled runs reached the same hash (engine-replay exits 3 otherwise)
# and so does a plain replay.
replay(plain --no-latency ${flow})
string(REGEX MATCH "hash=[0-9a-f]+" h1 "${last}")
string(REGEX MATCH "hash=[0-9a-f]+" h2 "${plain}")
if(NOT h1 STREQUAL h2)
  message(FATAL_ERROR "journaled ${h1} vs plain ${h2}")
endif()

# Error cases: exit 2 with a message that says why.
function(expect_exit2 what pattern)
  execute_process(COMMAND ${REPLAY} ${ARGN} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: expected exit 2 and '${pattern}', got ${rc}: ${err}")
  endif()
  message(STATUS "${what}: exit 2: ${err}")
endfunction()
expect_exit2("non-empty journal dir" "not empty" --journal ${WORK}/j_fsync ${flow})
expect_exit2("non-empty compare dir" "not empty" --compare-durability ${cmp} ${flow})
expect_exit2("journal dir is a file" "not a directory" --journal ${flow} ${flow})
expect_exit2("--durability without --journal" "--durability needs --journal"
             --durability none ${flow})
expect_exit2("--durability with --compare-durability" "--durability needs --journal"
             --compare-durability ${WORK}/cmp2 --durability none ${flow})
expect_exit2("bad policy" "--durability: bad durability policy 'sometimes'"
             --journal ${WORK}/j_bad --durability sometimes ${flow})
expect_exit2("interval:0" "--durability: bad durability policy 'interval:0'"
             --journal ${WORK}/j_bad --durability interval:0 ${flow})
expect_exit2("--journal with --repeat" "--repeat" --journal ${WORK}/j_bad --repeat 2 ${flow})
expect_exit2("--journal and --compare-durability" "exclude each other"
             --journal ${WORK}/j_bad --compare-durability ${WORK}/cmp2 ${flow})
if(EXISTS "${WORK}/j_bad" OR EXISTS "${WORK}/cmp2")
  message(FATAL_ERROR "a refused run created its journal directory")
endif()

file(REMOVE_RECURSE "${WORK}")
