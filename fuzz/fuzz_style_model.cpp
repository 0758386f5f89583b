// libFuzzer target: The .impasto model file: safetensors plus the JSON config and model card in its metadata.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    impasto::fuzz::style_model(data, size);
    return 0;
}
