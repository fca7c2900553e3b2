# Tests of engine_core (STYLE.md §14, §15): the reference book, the typed unit
# tests that both books must pass, the randomized differential test, and the
# shard tests. include()d from engine/CMakeLists.txt, so paths are relative to
# engine/.

xc_cc_library(
  NAME engine_testing
  TESTONLY
  SRCS src/testing/reference_book.cc
  HDRS src/testing/reference_book.h
  INCLUDE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/src
  PUBLIC_DEPS xc::engine_core
)

xc_cc_test(
  NAME order_book_test
  SRCS src/order_book_test.cc
  DEPS xc::engine_core xc::engine_testing
)

xc_cc_test(
  NAME order_book_differential_test
  SRCS src/order_book_differential_test.cc
  DEPS xc::engine_core xc::engine_testing
)

xc_cc_test(
  NAME shard_test
  SRCS src/shard_test.cc
  DEPS xc::engine_core xc::engine_testing
)
