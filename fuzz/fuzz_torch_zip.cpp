// libFuzzer target: The zip-format torch.save reader: zip central directory, data.pkl and tensors_from_dict.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    impasto::fuzz::torch_zip(data, size);
    return 0;
}
