#pragma once
// Watches every cv::imdecode call the library makes (fuzz/imdecode_hook.cpp interposes OpenCV's
// function in the executable that links it), so the image entry can check that the decoder is not
// called for a file over the limit and never returns more pixels than the limit.
#include <cstdint>

namespace impasto::fuzz {

struct DecodeRecord {
    int calls = 0;
    std::int64_t width = 0; // of the last decode; 0 when it failed
    std::int64_t height = 0;
    // OpenCV refused the image because its header is over OPENCV_IO_MAX_IMAGE_PIXELS: the decoder
    // was about to allocate more than the limit.
    bool header_over_limit = false;
};

DecodeRecord& decode_record();

} // namespace impasto::fuzz
