# Every target of ours builds with these; warnings are errors.
set(IMSAKA_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wnull-dereference
    -Wimplicit-fallthrough -Werror)

function(imsaka_target target)
  target_compile_options(${target} PRIVATE ${IMSAKA_WARNINGS})
endfunction()

# Adds every immediate subfolder of the current folder that has a CMakeLists.txt,
# so that a new part's tests need no edit of a shared list.
function(imsaka_add_subdirs)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
