# The first-party plugins (plugins/, adapters/) keep their domain code in a static library the
# unit tests link directly, and a plugin module that takes it in. These two functions say once
# how, and why.

# ow_plugin_domain_library(<target> SOURCES <file>... [LINK <lib>...])
# Position independent (the module takes it in), hidden visibility and no STB_GNU_UNIQUE
# symbols (they would keep the module from being unloaded at a reload): nothing of it is
# exported but through the plugin's declaration.
function(ow_plugin_domain_library target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LINK")
  add_library(${target} STATIC ${arg_SOURCES})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${arg_LINK})
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-fno-gnu-unique>)
endfunction()

# ow_first_party_plugin(<target> OUTPUT_NAME <name> SOURCES <file>... DOMAIN <lib>)
# The module, built like any department's (onewindow_add_plugin), into <build>/plugins/lib/.
function(ow_first_party_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_NAME;DOMAIN" "SOURCES")
  onewindow_add_plugin(${target} SOURCES ${arg_SOURCES} OUTPUT_NAME ${arg_OUTPUT_NAME})
  target_link_libraries(${target} PRIVATE ${arg_DOMAIN})
  set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins/lib)
endfunction()
