# ctest script: exbench against the real exchange binary (--spawn), a short
# open-loop run; asserts exit 0, zero errors, operations measured and the
# JSON/Markdown outputs with their fields.
#   cmake -DEXBENCH=<path> -DEXCHANGE=<path> -DWORK=<dir> "-DARGS=a;b" -P smoke_test.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND ${EXBENCH} --spawn ${EXCHANGE} ${ARGS} --json ${WORK}/result.json
          --report ${WORK}/report.md --quiet
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  TIMEOUT 150)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exbench exited ${rc}:\n${out}\n${err}")
endif()
file(READ "${WORK}/result.json" json)
message(STATUS "result.json: ${json}")
foreach(key tool config mode result)
  string(JSON v ERROR_VARIABLE e GET "${json}" ${key})
  if(e)
    message(FATAL_ERROR "result.json has no '${key}': ${e}")
  endif()
endforeach()
string(JSON errors GET "${json}" result error_count)
if(NOT errors EQUAL 0)
  message(FATAL_ERROR "exbench saw ${errors} errors")
endif()
string(JSON stop GET "${json}" exchange_stop)
if(NOT stop STREQUAL "exit 0")
  message(FATAL_ERROR "spawned exchange stopped with '${stop}'")
endif()
# What must have been measured: orders (unless REST reads only) and/or reads.
foreach(section ${MEASURED})
  string(JSON count GET "${json}" result ${section} count)
  if(count LESS 1)
    message(FATAL_ERROR "no ${section} operations measured")
  endif()
  foreach(f p50_us p90_us p99_us p999_us max_us)
    string(JSON v GET "${json}" result ${section} ${f})
  endforeach()
endforeach()
foreach(f offered_rate achieved_rate client_cpu errors)
  string(JSON v GET "${json}" result ${f})
endforeach()
file(READ "${WORK}/report.md" md)
if(NOT md MATCHES "p99.9" OR NOT md MATCHES "journal_policy")
  message(FATAL_ERROR "report.md lacks the latency table or the configuration:\n${md}")
endif()
