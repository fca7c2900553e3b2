#pragma once
// Debian's Abseil 20220623 lacks ABSL_RETURN_IF_ERROR, so we write our own
// (STYLE.md §6). For fallible operations off the hot path only.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define XC_STATUS_CONCAT_INNER_(a, b) a##b
#define XC_STATUS_CONCAT_(a, b) XC_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define XC_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status xc_status_ = (expr);           \
    if (!xc_status_.ok()) return xc_status_;      \
  } while (0)

// `lhs = value of expr`, or returns its status from the enclosing function.
#define XC_ASSIGN_OR_RETURN(lhs, expr)                                           \
  XC_ASSIGN_OR_RETURN_IMPL_(XC_STATUS_CONCAT_(xc_statusor_, __LINE__), lhs, expr)
#define XC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
