// libFuzzer target: A study spec in JSON, parsed and planned.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    impasto::fuzz::study_spec_json(data, size);
    return 0;
}
