// libFuzzer target: safetensors: header length, header JSON, dtypes, shapes and data offsets.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    impasto::fuzz::safetensors(data, size);
    return 0;
}
