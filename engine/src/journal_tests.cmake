# Journal tests (engine_core side) and the in-memory sink with fault injection.
# include()d from engine/CMakeLists.txt; paths are relative to engine/.

xc_cc_library(
  NAME engine_journal_testing
  TESTONLY
  SRCS src/testing/mem_journal_sink.cc
  HDRS src/testing/mem_journal_sink.h
  INCLUDE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/src
  PUBLIC_DEPS xc::engine_core
  DEPS absl::strings
)

xc_cc_test(
  NAME journal_test
  SRCS src/journal_format_test.cc src/journal_reader_test.cc src/journal_writer_test.cc
  DEPS xc::engine_core xc::engine_journal_testing absl::strings Threads::Threads
  TIMEOUT 120
)
