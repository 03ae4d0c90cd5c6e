# Compiles firmware/profiles/*.yaml into the firmware library as
# tdx_profiles_data.cpp (see firmware/tdx_profiles_data.h). CMake re-runs when
# a profile is added, removed or edited.
file(GLOB _tdx_profiles ${CMAKE_SOURCE_DIR}/firmware/profiles/*.yaml)
list(SORT _tdx_profiles)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${_tdx_profiles} ${CMAKE_SOURCE_DIR}/firmware/profiles)
set(_out "// Generated from firmware/profiles/*.yaml; do not edit.\n")
string(APPEND _out "#include \"firmware/tdx_profiles_data.h\"\n\n")
string(APPEND _out "namespace mkguest::tdx::profiles_data {\n\n")
string(APPEND _out "const std::vector<File>& files() {\n  static const std::vector<File> f = {\n")
foreach(_p ${_tdx_profiles})
  get_filename_component(_n ${_p} NAME)
  file(READ ${_p} _t)
  string(APPEND _out "      {\"${_n}\", R\"mkgprofile(${_t})mkgprofile\"},\n")
endforeach()
string(APPEND _out "  };\n  return f;\n}\n\n}  // namespace mkguest::tdx::profiles_data\n")
set(_gen ${CMAKE_BINARY_DIR}/generated/tdx_profiles_data.cpp)
file(WRITE ${_gen}.tmp "${_out}")
configure_file(${_gen}.tmp ${_gen} COPYONLY)
target_sources(mkguest_firmware PRIVATE ${_gen})
