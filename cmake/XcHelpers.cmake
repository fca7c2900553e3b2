# One helper per kind of target (STYLE.md §18, after Abseil's AbseilHelpers.cmake).
#
#   xc_cc_library(NAME n HDRS ... SRCS ... DEPS ... [PUBLIC_DEPS ...] [TESTONLY]
#                 [ALLOWED ...])
#     creates xc_<n> with alias xc::<n>. DEPS link PRIVATE, PUBLIC_DEPS link
#     PUBLIC (use only when a public header exposes the dependency). The
#     component's include/ directory is the only exported include directory.
#     ALLOWED, when given, is the allow list of the layering table: configuring
#     fails if DEPS/PUBLIC_DEPS name anything else (STYLE.md §9, enforcement 3).
#   xc_cc_test(NAME n SRCS ... DEPS ...)      gtest binary registered with ctest.
#   xc_cc_binary(NAME n SRCS ... DEPS ...)    executable in build/bin/ named n.

function(_xc_check_allowed target allowed)
  foreach(dep IN LISTS ARGN)
    list(FIND allowed "${dep}" idx)
    if(idx EQUAL -1)
      message(FATAL_ERROR "${target} may not depend on ${dep} (allowed: ${allowed})")
    endif()
  endforeach()
endfunction()

function(xc_cc_library)
  cmake_parse_arguments(X "TESTONLY" "NAME;INCLUDE_DIR" "HDRS;SRCS;DEPS;PUBLIC_DEPS;ALLOWED" ${ARGN})
  set(target xc_${X_NAME})
  if(X_TESTONLY AND NOT XC_BUILD_TESTS)
    return()
  endif()
  if(NOT X_INCLUDE_DIR)
    set(X_INCLUDE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/include)
  endif()
  if(X_ALLOWED)
    _xc_check_allowed(${target} "${X_ALLOWED}" ${X_DEPS} ${X_PUBLIC_DEPS})
  endif()
  if(X_SRCS)
    add_library(${target} STATIC ${X_SRCS} ${X_HDRS})
    target_include_directories(${target} PUBLIC ${X_INCLUDE_DIR}
                               PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${target} PRIVATE ${X_DEPS} PUBLIC ${X_PUBLIC_DEPS})
  else()
    add_library(${target} INTERFACE ${X_HDRS})
    target_include_directories(${target} INTERFACE ${X_INCLUDE_DIR})
    target_link_libraries(${target} INTERFACE ${X_DEPS} ${X_PUBLIC_DEPS})
  endif()
  add_library(xc::${X_NAME} ALIAS ${target})
endfunction()

function(xc_cc_test)
  cmake_parse_arguments(X "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT XC_BUILD_TESTS)
    return()
  endif()
  add_executable(${X_NAME} ${X_SRCS})
  target_include_directories(${X_NAME} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${X_NAME} PRIVATE ${X_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${X_NAME} COMMAND ${X_NAME})
  if(NOT X_TIMEOUT)
    set(X_TIMEOUT 600)
  endif()
  set_tests_properties(${X_NAME} PROPERTIES TIMEOUT ${X_TIMEOUT})
  if(X_LABELS)
    set_tests_properties(${X_NAME} PROPERTIES LABELS "${X_LABELS}")
  endif()
endfunction()

function(xc_cc_binary)
  cmake_parse_arguments(X "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${X_NAME} ${X_SRCS})
  target_include_directories(${X_NAME} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${X_NAME} PRIVATE ${X_DEPS})
endfunction()
