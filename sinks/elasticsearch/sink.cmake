# The elasticsearch sink speaks HTTP with libcurl (the core links it for
# the registry) and gzips request bodies with zlib, which libcurl itself
# depends on.
find_package(ZLIB REQUIRED)
target_link_libraries(cdccore PUBLIC ZLIB::ZLIB)
