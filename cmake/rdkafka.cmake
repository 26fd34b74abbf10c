# librdkafka 2.8, static, from the private prefix ./scripts/deps builds it
# into (Debian 12's 2.0.2 cannot do SCRAM with Kafka 4 brokers and aborts on
# an early consumer destroy: docs/decisions.md, "librdkafka 2.8"). Defines
# the target cdc_rdkafka. Its own dependencies are Debian's shared
# libraries, found with pkg-config as its rdkafka-static.pc names them.
set(CDCSINK_RDKAFKA_PREFIX /opt/cdcsink/librdkafka-2.8.0 CACHE PATH
    "librdkafka >= 2.6.1, static (./scripts/deps builds it)")
find_path(RDKAFKA_INCLUDE_DIR librdkafka/rdkafka.h
          PATHS ${CDCSINK_RDKAFKA_PREFIX}/include NO_DEFAULT_PATH)
find_library(RDKAFKA_LIBRARY librdkafka.a
             PATHS ${CDCSINK_RDKAFKA_PREFIX}/lib NO_DEFAULT_PATH)
if(NOT RDKAFKA_INCLUDE_DIR OR NOT RDKAFKA_LIBRARY)
  message(FATAL_ERROR "librdkafka not found in ${CDCSINK_RDKAFKA_PREFIX}: "
                      "run ./scripts/deps (or set CDCSINK_RDKAFKA_PREFIX)")
endif()
pkg_check_modules(RDKAFKA_DEPS REQUIRED IMPORTED_TARGET
                  zlib libcrypto libssl libsasl2 libzstd libcurl)
add_library(cdc_rdkafka INTERFACE)
# SYSTEM: its rdkafka.h has a warning our -Werror would stop on (a const
# return type); -isystem still comes before /usr/include, where a Debian
# librdkafka-dev installed beside it would put an older rdkafka.h.
target_include_directories(cdc_rdkafka SYSTEM INTERFACE ${RDKAFKA_INCLUDE_DIR})
target_link_libraries(cdc_rdkafka INTERFACE ${RDKAFKA_LIBRARY} PkgConfig::RDKAFKA_DEPS
                      m dl pthread rt)
