# Tests that need a kernel with ESP run inside user-mode Linux (tests/kernel/uml-run.sh).
#
# imsaka_kernel_test(NAME name TARGET target [ARGS args...] [TIMEOUT seconds] [MEM size]
#                    [LABELS labels...])
# imsaka_kernel_test(NAME name COMMAND command args... [TIMEOUT ...] [MEM ...] [LABELS ...])
# registers a ctest test (label "kernel") that boots the guest and runs the program of
# TARGET (or COMMAND) inside it. The program sees IMSAKA_KERNEL_BINARY_DIR, the build tree
# its binaries come from, to find any other program of ours it needs.
#
# AddressSanitizer cannot run in the guest: it maps its shadow memory at fixed addresses
# up to 0x10007fff8000, beyond the guest's address space. A sanitized tree therefore runs
# the same programs from the non-sanitized tree at IMSAKA_KERNEL_BINARY_DIR (by default
# build/release, which scripts/test.sh builds first).
set(IMSAKA_UML_RUNNER ${PROJECT_SOURCE_DIR}/tests/kernel/uml-run.sh)
if(IMSAKA_SANITIZE)
  set(IMSAKA_KERNEL_BINARY_DIR ${PROJECT_SOURCE_DIR}/build/release
      CACHE PATH "Non-sanitized build tree whose programs the kernel tests run")
else()
  set(IMSAKA_KERNEL_BINARY_DIR ${PROJECT_BINARY_DIR}
      CACHE PATH "Non-sanitized build tree whose programs the kernel tests run")
endif()

# In a sanitized tree, a ctest fixture first brings the non-sanitized tree up to date (a
# no-op after scripts/test.sh), so that the guest never runs stale programs.
function(imsaka_kernel_binaries_fixture)
  get_property(done GLOBAL PROPERTY IMSAKA_KERNEL_FIXTURE)
  if(done OR NOT IMSAKA_SANITIZE)
    return()
  endif()
  set_property(GLOBAL PROPERTY IMSAKA_KERNEL_FIXTURE ON)
  add_test(NAME kernel_binaries_up_to_date
           COMMAND sh -c "test -f '${IMSAKA_KERNEL_BINARY_DIR}/CMakeCache.txt' || { echo 'no build tree at ${IMSAKA_KERNEL_BINARY_DIR}: kernel tests run its non-sanitized programs; run scripts/build.sh release' >&2; exit 1; }; exec cmake --build '${IMSAKA_KERNEL_BINARY_DIR}'")
  set_tests_properties(kernel_binaries_up_to_date PROPERTIES LABELS kernel TIMEOUT 1800
                       FIXTURES_SETUP imsaka_kernel_binaries)
endfunction()

function(imsaka_kernel_test)
  cmake_parse_arguments(arg "" "NAME;TARGET;TIMEOUT;MEM" "ARGS;COMMAND;LABELS" ${ARGN})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 600)
  endif()
  if(NOT arg_MEM)
    set(arg_MEM 384M)
  endif()
  if(arg_TARGET)
    file(RELATIVE_PATH relative ${PROJECT_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR})
    set(command ${IMSAKA_KERNEL_BINARY_DIR}/${relative}/${arg_TARGET} ${arg_ARGS})
  else()
    set(command ${arg_COMMAND})
  endif()
  add_test(NAME ${arg_NAME}
           COMMAND ${IMSAKA_UML_RUNNER} --timeout ${arg_TIMEOUT} --mem ${arg_MEM} -- ${command})
  math(EXPR ctest_timeout "${arg_TIMEOUT} + 30")
  set_tests_properties(${arg_NAME} PROPERTIES LABELS "kernel;${arg_LABELS}" TIMEOUT ${ctest_timeout}
                       ENVIRONMENT IMSAKA_KERNEL_BINARY_DIR=${IMSAKA_KERNEL_BINARY_DIR})
  if(IMSAKA_SANITIZE)
    imsaka_kernel_binaries_fixture()
    set_tests_properties(${arg_NAME} PROPERTIES FIXTURES_REQUIRED imsaka_kernel_binaries)
  endif()
endfunction()
