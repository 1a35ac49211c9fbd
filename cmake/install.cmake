# liblatent as an installed library (included from CMakeLists.txt): the public API
# (include/latent/ over src/api/), liblatent.so.0 exporting only that API, liblatent.a,
# latent.pc, the latent.1 man page, bash completion, and a .deb (cpack -G DEB). docs/install.md.
include(GNUInstallDirs)
file(GLOB LT_API_SRC CONFIGURE_DEPENDS src/api/*.c)
target_sources(latent_lib PRIVATE ${LT_API_SRC})
configure_file(include/latent/version.h.in ${CMAKE_BINARY_DIR}/include/latent/version.h @ONLY)
target_include_directories(latent_lib PUBLIC include ${CMAKE_BINARY_DIR}/include)
# One set of PIC objects with hidden symbols makes both libraries: liblatent.a (which the CLI,
# tests and benchmarks link, and which is installed) and liblatent.so, where only LT_API
# functions are visible and src/api/latent.map keeps any other symbol (static code) local.
set_target_properties(latent_lib PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden
                      CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
# (latent_lib after the objects only brings its link dependencies: every symbol is defined by then.)
add_library(latent_shared SHARED $<TARGET_OBJECTS:latent_lib>)
target_link_libraries(latent_shared PRIVATE latent_lib)
target_link_options(latent_shared PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/api/latent.map
                    -Wl,--exclude-libs,ALL $<$<NOT:$<BOOL:${LT_SANITIZE}>>:-Wl,--no-undefined>)
set_target_properties(latent_shared PROPERTIES OUTPUT_NAME latent VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR} LINKER_LANGUAGE CXX
                      LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/api/latent.map)
# Installed programs keep the build's choice of OpenBLAS (the OpenMP build, CMakeLists.txt): the
# directories of libraries linked by full path outside the system's default ones become the RUNPATH.
set_target_properties(latent latent_shared PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)

install(TARGETS latent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS latent_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT dev)
install(TARGETS latent_lib ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(FILES include/latent/latent.h include/latent/common.h include/latent/data.h include/latent/run.h
              ${CMAKE_BINARY_DIR}/include/latent/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/latent COMPONENT dev)

# latent.pc: relocatable (prefix from the .pc file's own place), so an install with
# `cmake --install build --prefix P` works without reconfiguring. Its Libs.private (for
# `pkg-config --static`) are latent_lib's link libraries as they stand at the end of the
# configuration, whoever added them: imported targets are followed to their libraries,
# /dir/libNAME.so becomes [-L/dir] -lNAME.
file(RELATIVE_PATH LT_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" LT_PC_TO_PREFIX "${LT_PC_TO_PREFIX}")
function(lt_write_pc)
  get_target_property(queue latent_lib LINK_LIBRARIES)
  set(flags "")
  set(seen "")
  while(queue)
    list(POP_FRONT queue it)
    if(it IN_LIST seen OR it MATCHES "^\\$<")
      continue()
    endif()
    list(APPEND seen ${it})
    if(it STREQUAL "OpenMP::OpenMP_C")
      list(APPEND flags ${OpenMP_C_FLAGS}) # -fopenmp links libgomp
    elseif(TARGET ${it})
      foreach(prop INTERFACE_LINK_LIBRARIES INTERFACE_LINK_OPTIONS)
        get_target_property(sub ${it} ${prop})
        if(sub)
          list(APPEND queue ${sub})
        endif()
      endforeach()
    elseif(it MATCHES "^/")
      get_filename_component(dir ${it} DIRECTORY)
      get_filename_component(name ${it} NAME_WE)
      string(REGEX REPLACE "^lib" "" name ${name})
      if(NOT dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND flags -L${dir})
      endif()
      list(APPEND flags -l${name})
    elseif(it MATCHES "^-")
      list(APPEND flags ${it})
    else()
      list(APPEND flags -l${it})
    endif()
  endwhile()
  list(APPEND flags -lstdc++ -lm) # the FarmHash shim is C++
  list(REMOVE_DUPLICATES flags)
  string(REPLACE ";" " " LT_PC_LIBS_PRIVATE "${flags}")
  configure_file(${CMAKE_SOURCE_DIR}/cmake/latent.pc.in ${CMAKE_BINARY_DIR}/latent.pc @ONLY)
endfunction()
cmake_language(DEFER CALL lt_write_pc)
install(FILES ${CMAKE_BINARY_DIR}/latent.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# latent.1 from the commands' --help (scripts/man.sh), rebuilt whenever the CLI is.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/latent.1
                   COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/man.sh $<TARGET_FILE:latent> ${CMAKE_BINARY_DIR}/latent.1
                   DEPENDS latent ${CMAKE_SOURCE_DIR}/scripts/man.sh VERBATIM)
add_custom_target(latent_man ALL DEPENDS ${CMAKE_BINARY_DIR}/latent.1)
install(FILES ${CMAKE_BINARY_DIR}/latent.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES scripts/completion/latent.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME latent)

# cpack -G DEB (in the build directory): one package, latent, with the program, both libraries, the
# headers and latent.pc; its Depends come from dpkg-shlibdeps (dpkg-dev) over what it links.
set(CPACK_PACKAGE_NAME latent)
set(CPACK_PACKAGE_VENDOR "latent")
set(CPACK_PACKAGE_CONTACT "latent maintainers <latent@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "train, evaluate and sample deep generative models on the CPU")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
if(LT_OPENBLAS_LIB MATCHES "openblas-openmp") # the RUNPATH picks it when present (INSTALL_RPATH_USE_LINK_PATH)
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS libopenblas0-openmp)
endif()
# cpack and `cmake --build --target install` package what is built, without first rebuilding
# every test and benchmark (`make deb` and `make install` build first).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CPack)
