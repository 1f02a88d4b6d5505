# jamjet_layer(NAME SOURCES ... [DEPENDS layer ...] [PUBLIC_LIBS ...]
#              [PRIVATE_LIBS ...] [PUBLIC_HEADERS ...] [NOT_PACKAGED])
#
# One layer of the library: a static library `jamjet_<NAME>` whose include
# root is the layer's folder (headers under `<folder>/jamjet/...`). A layer
# sees only its own headers and those of the layers it DEPENDS on, so an
# include against the direction of the layering does not compile.
# PUBLIC_HEADERS (paths relative to the folder) are the headers reachable
# from the public API; only they are installed. A NOT_PACKAGED layer (http)
# stays out of the installed libjamjet: it is linked into the command.
function(jamjet_layer name)
  cmake_parse_arguments(L "NOT_PACKAGED" ""
    "SOURCES;DEPENDS;PUBLIC_LIBS;PRIVATE_LIBS;PUBLIC_HEADERS" ${ARGN})
  set(target jamjet_${name})
  add_library(${target} STATIC ${L_SOURCES})
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}>)
  set(deps)
  foreach(dep ${L_DEPENDS})
    list(APPEND deps jamjet_${dep})
  endforeach()
  target_link_libraries(${target}
    PUBLIC ${deps} ${L_PUBLIC_LIBS}
    PRIVATE ${L_PRIVATE_LIBS} jamjet_warnings)
  # The same objects go into the installed library, which may be shared.
  set_target_properties(${target} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  foreach(h ${L_PUBLIC_HEADERS})
    get_filename_component(dir ${h} DIRECTORY)
    install(FILES ${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${dir}
            COMPONENT dev)
  endforeach()
  if(NOT L_NOT_PACKAGED)
    set_property(GLOBAL APPEND PROPERTY JAMJET_LAYERS ${target})
  endif()
endfunction()
