// Defines cv::imdecode(InputArray, int) in the executable, which takes precedence over OpenCV's
// shared library for every caller; it records the call and forwards to OpenCV's own function.
// Only the fuzz targets and the regression tests link this file.
#include "imdecode_hook.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <opencv2/imgcodecs.hpp>

namespace impasto::fuzz {

DecodeRecord& decode_record() {
    static DecodeRecord record;
    return record;
}

} // namespace impasto::fuzz

namespace {

using ImdecodeFunction = cv::Mat (*)(const cv::_InputArray&, int);

ImdecodeFunction opencv_imdecode() {
    // The mangled name of cv::imdecode(cv::_InputArray const&, int), OpenCV 4.x.
    static const auto real =
        reinterpret_cast<ImdecodeFunction>(dlsym(RTLD_NEXT, "_ZN2cv8imdecodeERKNS_11_InputArrayEi"));
    if (real == nullptr) {
        std::fprintf(stderr, "imdecode_hook: OpenCV's cv::imdecode not found (%s)\n", dlerror());
        std::abort();
    }
    return real;
}

} // namespace

cv::Mat cv::imdecode(cv::InputArray buf, int flags) {
    impasto::fuzz::DecodeRecord& record = impasto::fuzz::decode_record();
    ++record.calls;
    record.width = 0;
    record.height = 0;
    record.header_over_limit = false;
    cv::Mat decoded;
    try {
        decoded = opencv_imdecode()(buf, flags);
    } catch (const cv::Exception& e) {
        // loadsave.cpp's validateInputImageSize, which runs on the header before anything is allocated.
        record.header_over_limit = std::strstr(e.what(), "CV_IO_MAX_IMAGE_PIXELS") != nullptr;
        throw;
    }
    if (!decoded.empty()) {
        record.width = decoded.cols;
        record.height = decoded.rows;
    }
    return decoded;
}
