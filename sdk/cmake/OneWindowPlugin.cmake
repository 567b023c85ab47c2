# onewindow_add_plugin(<target> SOURCES <file>... [OUTPUT_NAME <name>])
#
# Builds a OneWindow plugin: a MODULE library (loaded with dlopen, never linked against) named
# <name>.so (default <target>.so, no "lib" prefix), compiled as C++20 against OneWindow::sdk.
# Why each setting:
# - hidden visibility: the plugin exports only its declaration (ONEWINDOW_PLUGIN) and the SDK
#   interfaces' type information, so its own classes and inline functions can never bind to
#   another plugin's, or the hub's, symbols of the same name;
# - -Wl,--no-undefined: a missing symbol fails the link here, not the hub's dlopen in production;
# - -fno-gnu-unique (GCC): STB_GNU_UNIQUE symbols would keep the library mapped after dlclose.
# Link further libraries with target_link_libraries(<target> PRIVATE ...) as usual.
function(onewindow_add_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_NAME" "SOURCES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "onewindow_add_plugin(${target}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "onewindow_add_plugin(${target}): SOURCES is required")
  endif()
  if(NOT arg_OUTPUT_NAME)
    set(arg_OUTPUT_NAME ${target})
  endif()

  add_library(${target} MODULE ${arg_SOURCES})
  target_link_libraries(${target} PRIVATE OneWindow::sdk)
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${arg_OUTPUT_NAME}
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # Clang's sanitizer runtimes are resolved only in the executable, so a sanitized clang build
  # cannot link a module with --no-undefined; such builds keep the check off.
  if(NOT (CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CMAKE_CXX_FLAGS MATCHES "-fsanitize"))
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-fno-gnu-unique>)
endfunction()
