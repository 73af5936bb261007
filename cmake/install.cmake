# Install rules and the CMake package (weftConfig.cmake): the libraries a user
# links (weft::runtime, weft::sim, weft::gtest), their headers, and the backends'
# headers in one folder per backend (WEFT_INSTALL_OS_BACKEND, WEFT_INSTALL_SIM_BACKEND).
include(CMakePackageConfigHelpers)

# Exported names: weft::runtime, weft::sim, weft::gtest, and what they are made of.
set_target_properties(weft_platform_contract PROPERTIES EXPORT_NAME platform_contract)
set_target_properties(weft_sim_core PROPERTIES EXPORT_NAME sim_core)
set_target_properties(weft_engine PROPERTIES EXPORT_NAME engine)
set_target_properties(weft_engine_sim PROPERTIES EXPORT_NAME engine_sim)
set_target_properties(weft_testing PROPERTIES EXPORT_NAME testing)
set_target_properties(weft_sim PROPERTIES EXPORT_NAME sim)
set_target_properties(weft_runtime PROPERTIES EXPORT_NAME runtime)
set(WEFT_EXPORTED weft_platform_contract weft_sim_core weft_engine weft_engine_sim weft_testing weft_sim weft_runtime)
set(WEFT_HAS_GTEST OFF)
if(TARGET weft_gtest)
  set_target_properties(weft_gtest PROPERTIES EXPORT_NAME gtest)
  list(APPEND WEFT_EXPORTED weft_gtest)
  set(WEFT_HAS_GTEST ON)
endif()

install(TARGETS ${WEFT_EXPORTED} EXPORT weftTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# Headers common to every backend.
install(DIRECTORY engine/include/weft engine/platform/contract/include/weft sim/include/weft testing/include/weft
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Each backend's headers in its own folder (only that backend's targets reach it).
install(DIRECTORY engine/platform/os/include/weft testing/facade/std/include/weft DESTINATION ${WEFT_INSTALL_OS_BACKEND})
install(DIRECTORY engine/platform/sim/include/weft testing/facade/sim/include/weft DESTINATION ${WEFT_INSTALL_SIM_BACKEND})

set(WEFT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/weft)
install(EXPORT weftTargets NAMESPACE weft:: DESTINATION ${WEFT_CMAKE_DIR})
configure_package_config_file(cmake/weftConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake
                              INSTALL_DESTINATION ${WEFT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
        DESTINATION ${WEFT_CMAKE_DIR})
