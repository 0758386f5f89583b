#pragma once
// The test oracle for the image probe: for a file, the probe either refuses it or reports the
// size cv::imdecode (with the flags load_image uses) decodes. Used by the crafted-file tests and
// the header-mutation test.
#include "io/image_checks.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <string>
#include <vector>

namespace impasto::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes encoded(const std::string& ext, int width, int height, int channels = 3,
                     const std::vector<int>& params = {}) {
    cv::Mat image(height, width, CV_8UC(channels));
    cv::randu(image, 0, 255);
    std::vector<std::uint8_t> bytes;
    EXPECT_TRUE(cv::imencode(ext, image, bytes, params)) << ext;
    return bytes;
}

inline std::optional<detail::ImageProbe> probe_or_refuse(const Bytes& bytes) {
    try {
        return detail::probe_image(bytes.data(), bytes.size());
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// What load_image asks the decoder for (see decode_flags in image_io.cpp).
inline int flags_for(const detail::ImageProbe& probe) {
    const int color = cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH;
    switch (probe.format) {
    case detail::ImageFormat::Png:
    case detail::ImageFormat::Webp:
        return probe.has_alpha ? cv::IMREAD_UNCHANGED : color;
    case detail::ImageFormat::Tiff:
        return cv::IMREAD_UNCHANGED;
    default:
        return color;
    }
}

// The decoder's size, or nothing when it fails.
inline std::optional<std::pair<int, int>> decoded_size(const Bytes& bytes, int flags) {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    try {
        const cv::Mat decoded = cv::imdecode(bytes, flags);
        if (decoded.empty()) {
            return std::nullopt;
        }
        return std::make_pair(decoded.cols, decoded.rows);
    } catch (const cv::Exception&) {
        return std::nullopt;
    }
}

// The oracle. `decode_limit` keeps the test itself from decoding what the probe calls large.
inline ::testing::AssertionResult probe_agrees_with_decoder(const Bytes& bytes,
                                                            std::int64_t decode_limit = std::int64_t{1} << 20U) {
    const auto probe = probe_or_refuse(bytes);
    if (!probe) {
        return ::testing::AssertionSuccess() << "refused";
    }
    if (probe->width < 1 || probe->height < 1) {
        return ::testing::AssertionFailure()
               << "the probe accepted the file without a size (" << probe->width << "x" << probe->height
               << "): the pixel limit would not be checked before decoding";
    }
    if (probe->width * probe->height > decode_limit || probe->scratch_pixels > decode_limit) {
        return ::testing::AssertionSuccess() << "over the limit: not decoded";
    }
    const auto decoded = decoded_size(bytes, flags_for(*probe));
    if (!decoded) {
        return ::testing::AssertionSuccess() << "the decoder refused it";
    }
    const bool same = (decoded->first == probe->width && decoded->second == probe->height) ||
                      (decoded->first == probe->height && decoded->second == probe->width);
    if (!same) {
        return ::testing::AssertionFailure() << "the probe read " << probe->width << "x" << probe->height
                                             << ", the decoder " << decoded->first << "x" << decoded->second;
    }
    return ::testing::AssertionSuccess();
}

// The probe's size for a file the decoder is known to read at `width` x `height`: it must refuse
// the file or agree with the decoder.
inline ::testing::AssertionResult probe_refuses_or_reads(const Bytes& bytes, std::int64_t width, std::int64_t height) {
    const auto probe = probe_or_refuse(bytes);
    if (!probe) {
        return ::testing::AssertionSuccess();
    }
    if (probe->width == width && probe->height == height) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "the probe read " << probe->width << "x" << probe->height
                                         << ", the decoder reads " << width << "x" << height;
}

} // namespace impasto::testing
