// libFuzzer target: The legacy (pre-zip) torch.save reader: pickle VM, storages and tensors_from_dict.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    impasto::fuzz::torch_legacy(data, size);
    return 0;
}
