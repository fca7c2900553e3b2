# Snapshot and recovery tests (engine_core side) and the in-memory
# SnapshotStore. include()d from engine/CMakeLists.txt; paths relative to engine/.

xc_cc_library(
  NAME engine_snapshot_testing
  TESTONLY
  SRCS src/testing/mem_snapshot_store.cc
  HDRS src/testing/mem_snapshot_store.h src/testing/command_flow.h
  INCLUDE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/src
  PUBLIC_DEPS xc::engine_core
  DEPS absl::strings
)

xc_cc_test(
  NAME snapshot_recovery_test
  SRCS src/snapshot_recovery_test.cc
  DEPS xc::engine_core xc::engine_snapshot_testing xc::engine_journal_testing absl::strings
  TIMEOUT 120
)
