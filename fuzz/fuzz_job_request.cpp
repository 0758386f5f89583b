// libFuzzer target: A studio job request body (POST /api/jobs), resolved against a fixed catalogue.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    impasto::fuzz::job_request(data, size);
    return 0;
}
