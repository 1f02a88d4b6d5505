# libjamjet, its install rules, the CMake package (jamjetConfig.cmake) and
# jamjet.pc. Included by the top-level CMakeLists.txt after the layers.

get_property(_jamjet_layers GLOBAL PROPERTY JAMJET_LAYERS)
set(_jamjet_objects)
foreach(layer ${_jamjet_layers})
  list(APPEND _jamjet_objects $<TARGET_OBJECTS:${layer}>)
endforeach()

add_library(jamjet_library ${_jamjet_objects})
add_library(jamjet::jamjet ALIAS jamjet_library)
set_target_properties(jamjet_library PROPERTIES
  OUTPUT_NAME jamjet
  EXPORT_NAME jamjet
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
# The public layers only: actors/ and cli/ headers stay internal.
target_include_directories(jamjet_library PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/support>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/messages>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/core>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/store>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/runtime>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(jamjet_library PUBLIC cxx_std_17)
target_link_libraries(jamjet_library
  PUBLIC CAF::core nlohmann_json::nlohmann_json spdlog::spdlog
         Threads::Threads
  PRIVATE CAF::io SQLite::SQLite3 OpenSSL::SSL OpenSSL::Crypto)
# Only the public API leaves a shared library: the layers' objects are
# compiled with hidden visibility (cmake/JamjetLayer.cmake).

include(CMakePackageConfigHelpers)
set(JAMJET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/jamjet)

install(TARGETS jamjet_library EXPORT jamjetTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib
          NAMELINK_COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT lib)
install(EXPORT jamjetTargets NAMESPACE jamjet:: DESTINATION ${JAMJET_CMAKE_DIR}
        COMPONENT dev)
configure_package_config_file(cmake/jamjetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/jamjetConfig.cmake
  INSTALL_DESTINATION ${JAMJET_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/jamjetConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/jamjetConfig.cmake
              ${PROJECT_BINARY_DIR}/jamjetConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
        DESTINATION ${JAMJET_CMAKE_DIR} COMPONENT dev)

# pkg-config: CAF has no .pc file, so its libraries are named directly.
if(BUILD_SHARED_LIBS)
  set(JAMJET_PC_PRIVATE "Libs.private: -lsqlite3 -lssl -lcrypto")
else()
  set(JAMJET_PC_PRIVATE "Libs.private: -lsqlite3 -lssl -lcrypto -lpthread")
endif()
configure_file(cmake/jamjet.pc.in ${PROJECT_BINARY_DIR}/jamjet.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/jamjet.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# A Debian package of the CLI and the library: `cpack -G DEB` in the build
# directory.
set(CPACK_PACKAGE_NAME jamjet)
set(CPACK_PACKAGE_VENDOR "jamjet-cpp")
set(CPACK_PACKAGE_CONTACT "jamjet-cpp maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libcaf-dev (>= 0.17.6), nlohmann-json3-dev, libspdlog-dev, libsqlite3-dev, libssl-dev")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
