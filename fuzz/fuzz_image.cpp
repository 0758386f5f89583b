// libFuzzer target: image probe plus decode (load_image), with the probe/decoder size oracles; see fuzz_entry.h.
#include "fuzz_entry.h"

// OpenCV takes its pixel limit from the environment when it loads: restart with it set.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** argv) {
    impasto::fuzz::restart_with_opencv_limit(*argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    impasto::fuzz::image(data, size);
    return 0;
}
