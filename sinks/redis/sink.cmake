# The redis sink links hiredis >= 1.0 with TLS, which ./scripts/deps builds
# from Debian 13's source package into a private prefix (static libraries).
set(CDCSINK_HIREDIS_PREFIX /opt/cdcsink/hiredis-1.2.0 CACHE PATH
    "hiredis >= 1.0 with TLS (./scripts/deps builds it)")
find_path(HIREDIS_INCLUDE_DIR hiredis/hiredis_ssl.h
          PATHS ${CDCSINK_HIREDIS_PREFIX}/include NO_DEFAULT_PATH)
find_library(HIREDIS_LIBRARY libhiredis.a
             PATHS ${CDCSINK_HIREDIS_PREFIX}/lib NO_DEFAULT_PATH)
find_library(HIREDIS_SSL_LIBRARY libhiredis_ssl.a
             PATHS ${CDCSINK_HIREDIS_PREFIX}/lib NO_DEFAULT_PATH)
if(NOT HIREDIS_INCLUDE_DIR OR NOT HIREDIS_LIBRARY OR NOT HIREDIS_SSL_LIBRARY)
  message(FATAL_ERROR "hiredis with TLS not found in ${CDCSINK_HIREDIS_PREFIX}: "
                      "run ./scripts/deps (or set CDCSINK_HIREDIS_PREFIX)")
endif()
find_package(OpenSSL REQUIRED)
target_include_directories(cdccore BEFORE PUBLIC ${HIREDIS_INCLUDE_DIR})
target_link_libraries(cdccore PUBLIC ${HIREDIS_SSL_LIBRARY} ${HIREDIS_LIBRARY}
                      OpenSSL::SSL OpenSSL::Crypto)
