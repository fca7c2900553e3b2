# ctest script: http-presign's output format. Fixed secret and timestamp, so
# the signatures are known (computed independently with Python's hmac).
#   cmake -DPRESIGN=<path> -DWORK=<dir> -P presign_smoke_test.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND ${PRESIGN} --api-key k --secret s3cr3t --pairs 3 --slices 2 --first-index 5
          --timestamp-ms 1700000000000 --out ${WORK}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT err MATCHES "pairs=3 slices=2 timestamp_ms=1700000000000")
  message(FATAL_ERROR "http-presign failed (${rc}): ${err}")
endif()
file(STRINGS "${WORK}/slice-0.txt" s0)
file(STRINGS "${WORK}/slice-1.txt" s1)
list(LENGTH s0 n0)
list(LENGTH s1 n1)
if(NOT n0 EQUAL 4 OR NOT n1 EQUAL 2)
  message(FATAL_ERROR "expected 4 + 2 lines (pairs 5,7 | 6), got ${n0} + ${n1}")
endif()
list(GET s0 0 new5)
list(GET s0 1 cancel5)
list(GET s1 0 new6)
set(want_new "POST\t/api/v3/order\tsymbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=1000.00&newClientOrderId=b5&timestamp=1700000000000&recvWindow=60000&signature=665c8d61afc71a1373213aca3c3d86f9acaabecd3c90344dc39cc4a4f8853e54")
set(want_cancel "DELETE\t/api/v3/order?symbol=BTCUSDT&origClientOrderId=b5&timestamp=1700000000000&recvWindow=60000&signature=03ea737774f01b2f65e567393261c4d3aa91ab877ad3516e620fcda83f737f99\t")
if(NOT new5 STREQUAL want_new)
  message(FATAL_ERROR "new order line:\n got  '${new5}'\n want '${want_new}'")
endif()
if(NOT cancel5 STREQUAL want_cancel)
  message(FATAL_ERROR "cancel line:\n got  '${cancel5}'\n want '${want_cancel}'")
endif()
if(NOT new6 MATCHES "newClientOrderId=b6&")
  message(FATAL_ERROR "slice 1 should start with pair 6: '${new6}'")
endif()
# --sign-body signs the same way.
execute_process(
  COMMAND ${PRESIGN} --secret s3cr3t --timestamp-ms 1700000000000
          --sign-body "symbol=BTCUSDT&origClientOrderId=b5"
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
string(STRIP "${out}" out)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "symbol=BTCUSDT&origClientOrderId=b5&timestamp=1700000000000&recvWindow=60000&signature=03ea737774f01b2f65e567393261c4d3aa91ab877ad3516e620fcda83f737f99")
  message(FATAL_ERROR "--sign-body: ${rc} '${out}'")
endif()
execute_process(COMMAND ${PRESIGN} --pairs 1 RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "missing --secret: expected exit 2, got ${rc}")
endif()
file(REMOVE_RECURSE "${WORK}")
