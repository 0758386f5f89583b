// load_image: round trips through every format and the clear refusal of bad files.
#include "impasto/error.h"
#include "impasto/image.h"
#include "io_image_fixtures.h"
#include "testutil.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace impasto {
namespace {
using namespace impasto::testing;

float max_abs_difference(const Image& a, const Image& b) {
    EXPECT_EQ(a.width, b.width);
    EXPECT_EQ(a.height, b.height);
    float worst = 0.0F;
    for (std::size_t i = 0; i < std::min(a.rgb.size(), b.rgb.size()); ++i) {
        worst = std::max(worst, std::abs(a.rgb[i] - b.rgb[i]));
    }
    return worst;
}

TEST(ImageLoad, Png8RoundTripIsExactToOneStep) {
    TempDir dir;
    const Image original = gradient_image(23, 17);
    save_image(original, dir / "g.png");
    const Image loaded = load_image(dir / "g.png");
    EXPECT_LE(max_abs_difference(original, loaded), 0.5F / 255.0F + 1e-6F);
}

TEST(ImageLoad, LosslessFormatsRoundTrip) {
    TempDir dir;
    const Image original = gradient_image(19, 11);
    for (const char* name : {"g.bmp", "g.tif", "g.tiff"}) {
        save_image(original, dir / name);
        EXPECT_LE(max_abs_difference(original, load_image(dir / name)), 0.5F / 255.0F + 1e-6F) << name;
    }
}

TEST(ImageLoad, LossyFormatsRoundTripClosely) {
    TempDir dir;
    const Image original = solid_image(24, 16, 0.8F, 0.3F, 0.1F);
    for (const char* name : {"s.jpg", "s.jpeg", "s.webp"}) {
        save_image(original, dir / name, 95);
        EXPECT_LE(max_abs_difference(original, load_image(dir / name)), 0.03F) << name;
    }
}

TEST(ImageLoad, Png16KeepsFullPrecision) {
    TempDir dir;
    // Neighbouring 16-bit codes, far closer than one 8-bit step, must stay distinct.
    cv::Mat bgr(8, 9, CV_16UC3);
    for (int y = 0; y < bgr.rows; ++y) {
        for (int x = 0; x < bgr.cols; ++x) {
            const auto v = static_cast<std::uint16_t>(30000 + x + 256 * y);
            bgr.at<cv::Vec3w>(y, x) =
                cv::Vec3w(v, static_cast<std::uint16_t>(v + 1), static_cast<std::uint16_t>(65535 - v));
        }
    }
    ASSERT_TRUE(cv::imwrite((dir / "deep.png").string(), bgr));
    const Image loaded = load_image(dir / "deep.png");
    ASSERT_EQ(loaded.width, 9);
    ASSERT_EQ(loaded.height, 8);
    for (int y = 0; y < 8; ++y) {
        for (int x = 0; x < 9; ++x) {
            const double v = 30000 + x + 256 * y;
            const float* p = loaded.pixel(x, y);
            EXPECT_NEAR(p[0], (65535 - v) / 65535.0, 1e-7); // R is OpenCV's third channel
            EXPECT_NEAR(p[1], (v + 1) / 65535.0, 1e-7);
            EXPECT_NEAR(p[2], v / 65535.0, 1e-7);
        }
    }
    EXPECT_NE(loaded.pixel(0, 0)[2], loaded.pixel(1, 0)[2]);
}

TEST(ImageLoad, GreyscaleBecomesRgb) {
    TempDir dir;
    cv::Mat grey(9, 10, CV_8UC1);
    for (int y = 0; y < grey.rows; ++y) {
        for (int x = 0; x < grey.cols; ++x) {
            grey.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(20 * x + y);
        }
    }
    ASSERT_TRUE(cv::imwrite((dir / "grey.png").string(), grey));
    const Image loaded = load_image(dir / "grey.png");
    ASSERT_EQ(loaded.width, 10);
    const float* p = loaded.pixel(7, 3);
    EXPECT_FLOAT_EQ(p[0], 143.0F / 255.0F);
    EXPECT_FLOAT_EQ(p[1], p[0]);
    EXPECT_FLOAT_EQ(p[2], p[0]);
}

TEST(ImageLoad, Grey16PngKeepsPrecision) {
    TempDir dir;
    cv::Mat grey(8, 8, CV_16UC1, cv::Scalar(12345));
    grey.at<std::uint16_t>(0, 1) = 12346;
    ASSERT_TRUE(cv::imwrite((dir / "grey16.png").string(), grey));
    const Image loaded = load_image(dir / "grey16.png");
    EXPECT_NEAR(loaded.pixel(0, 0)[1], 12345.0 / 65535.0, 1e-7);
    EXPECT_NEAR(loaded.pixel(1, 0)[1], 12346.0 / 65535.0, 1e-7);
}

TEST(ImageLoad, AlphaIsCompositedOverWhite) {
    TempDir dir;
    // BGRA: opaque red, fully transparent black, half-transparent blue.
    cv::Mat bgra(8, 12, CV_8UC4, cv::Scalar(0, 0, 255, 255));
    bgra(cv::Rect(4, 0, 4, 8)).setTo(cv::Scalar(0, 0, 0, 0));
    bgra(cv::Rect(8, 0, 4, 8)).setTo(cv::Scalar(255, 0, 0, 102));
    for (const char* name : {"a.png", "a.tif", "a.webp"}) {
        const std::vector<int> params = {cv::IMWRITE_WEBP_QUALITY, 101}; // lossless WebP
        ASSERT_TRUE(cv::imwrite((dir / name).string(), bgra, params)) << name;
        const Image loaded = load_image(dir / name);
        const float a = 102.0F / 255.0F;
        EXPECT_NEAR(loaded.pixel(1, 1)[0], 1.0F, 1e-6F) << name;
        EXPECT_NEAR(loaded.pixel(1, 1)[1], 0.0F, 1e-6F) << name;
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(loaded.pixel(5, 3)[c], 1.0F, 1e-6F) << name; // transparent -> white
        }
        EXPECT_NEAR(loaded.pixel(9, 3)[0], 1.0F - a, 1e-6F) << name;
        EXPECT_NEAR(loaded.pixel(9, 3)[2], 1.0F, 1e-6F) << name;
    }
}

TEST(ImageLoad, MissingFile) {
    TempDir dir;
    const std::string message = error_message<InputError>([&] { load_image(dir / "nope.png"); });
    IMPASTO_EXPECT_CONTAINS(message, "nope.png': file not found");
}

TEST(ImageLoad, FolderIsNotAnImage) {
    TempDir dir;
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir.path()); }), "is a folder");
}

TEST(ImageLoad, ZeroByteFile) {
    TempDir dir;
    write_text(dir / "empty.jpg", "");
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "empty.jpg"); }),
                            "loading '" + (dir / "empty.jpg").string() + "': empty file (0 bytes)");
}

TEST(ImageLoad, TextFileNamedPng) {
    TempDir dir;
    write_text(dir / "notes.png", "these are not pixels\n");
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "notes.png"); }),
                            "notes.png': not an image (unrecognised format)");
}

TEST(ImageLoad, TruncatedJpeg) {
    TempDir dir;
    save_image(gradient_image(64, 48), dir / "full.jpg");
    std::vector<std::uint8_t> bytes = read_bytes(dir / "full.jpg");
    bytes.resize(bytes.size() / 2);
    write_bytes(dir / "half.jpg", bytes);
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "half.jpg"); }),
                            "half.jpg': truncated JPEG (no end-of-image marker)");
}

TEST(ImageLoad, JpegWithTrailerAfterEndMarkerLoads) {
    TempDir dir;
    save_image(gradient_image(16, 16), dir / "t.jpg");
    std::vector<std::uint8_t> bytes = read_bytes(dir / "t.jpg");
    bytes.insert(bytes.end(), 5000, 0x42); // like a motion photo's appended video
    write_bytes(dir / "t.jpg", bytes);
    EXPECT_EQ(load_image(dir / "t.jpg").width, 16);
}

TEST(ImageLoad, TruncatedPng) {
    TempDir dir;
    save_image(gradient_image(64, 48), dir / "full.png");
    std::vector<std::uint8_t> bytes = read_bytes(dir / "full.png");
    bytes.resize(bytes.size() / 2);
    write_bytes(dir / "half.png", bytes);
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "half.png"); }),
                            "half.png': truncated PNG (no IEND chunk)");
}

TEST(ImageLoad, TruncatedBmp) {
    TempDir dir;
    save_image(gradient_image(20, 10), dir / "full.bmp");
    std::vector<std::uint8_t> bytes = read_bytes(dir / "full.bmp");
    bytes.resize(bytes.size() - 7);
    write_bytes(dir / "cut.bmp", bytes);
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "cut.bmp"); }), "cut.bmp': truncated BMP");
}

TEST(ImageLoad, ProgressiveAndRestartMarkerJpegsLoad) {
    TempDir dir;
    cv::Mat noise(40, 24, CV_8UC3);
    cv::randu(noise, 0, 255); // busy data: many FF bytes and stuffing in the scans
    ASSERT_TRUE(cv::imwrite((dir / "p.jpg").string(), noise, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
    ASSERT_TRUE(cv::imwrite((dir / "r.jpg").string(), noise, {cv::IMWRITE_JPEG_RST_INTERVAL, 1}));
    EXPECT_EQ(load_image(dir / "p.jpg").height, 40);
    EXPECT_EQ(load_image(dir / "r.jpg").height, 40);
    std::vector<std::uint8_t> bytes = read_bytes(dir / "p.jpg");
    bytes.resize(bytes.size() * 3 / 4); // cut inside a later scan of the progressive file
    write_bytes(dir / "cut.jpg", bytes);
    EXPECT_THROW(load_image(dir / "cut.jpg"), InputError);
}

TEST(ImageLoad, CorruptWebpFailsInDecoder) {
    TempDir dir;
    save_image(gradient_image(64, 48), dir / "full.webp");
    std::vector<std::uint8_t> bytes = read_bytes(dir / "full.webp");
    bytes.resize(bytes.size() / 2);
    write_bytes(dir / "half.webp", bytes);
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "half.webp"); }), "WebP");
}

TEST(ImageLoad, TinyImageIsRefused) {
    TempDir dir;
    save_image(gradient_image(4, 4), dir / "tiny.png");
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "tiny.png"); }),
                            "tiny.png': image is 4x4 pixels, smaller than the minimum of 8 pixels per side");
    ImageLoadLimits limits;
    limits.min_side = 4;
    EXPECT_EQ(load_image(dir / "tiny.png", limits).width, 4);
}

TEST(ImageLoad, PixelLimitIsEnforced) {
    TempDir dir;
    ImageLoadLimits limits;
    limits.max_pixels = 100;
    for (const char* name : {"big.png", "big.jpg", "big.bmp", "big.webp", "big.tif"}) {
        save_image(gradient_image(16, 12), dir / name);
        IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / name, limits); }),
                                "image is 16x12 (192 pixels), over the decode limit of 100 pixels")
            << name;
    }
}

// A PNG header that claims 100000x100000 pixels but holds no pixel data: refused from the
// header, without the 30 GB allocation a decoder would attempt.
TEST(ImageLoad, PixelLimitIsCheckedBeforeDecoding) {
    TempDir dir;
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const std::vector<std::uint8_t> ihdr = {
        0, 0,    0,    13, 'I', 'H', 'D', 'R', 0, 1, 0x86, 0xA0, 0,
        1, 0x86, 0xA0, 8,  2,   0,   0,   0,   0, 0, 0,    0}; // CRC left zero: never reached
    const std::vector<std::uint8_t> iend = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    png.insert(png.end(), ihdr.begin(), ihdr.end());
    png.insert(png.end(), iend.begin(), iend.end());
    write_bytes(dir / "huge.png", png);
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "huge.png"); }),
                            "image is 100000x100000 (10000000000 pixels), over the decode limit of 200000000 pixels");
}

// The same for TIFF, whose size sits in the first directory: a header claiming 70000x70000
// (ImageWidth as LONG, ImageLength as SHORT), little- and big-endian.
TEST(ImageLoad, TiffPixelLimitIsCheckedBeforeDecoding) {
    TempDir dir;
    const std::vector<std::uint8_t> little = {'I', 'I', 42, 0, 8, 0, 0, 0,                           // header, IFD at 8
                                              2, 0,                                                  // 2 entries
                                              0x00, 0x01, 4, 0, 1, 0, 0, 0, 0x70, 0x11, 0x01, 0x00, // 256 LONG 70000
                                              0x01, 0x01, 3, 0, 1, 0, 0, 0, 0x70, 0x11, 0, 0,       // 257 SHORT 4464
                                              0, 0, 0, 0};
    const std::vector<std::uint8_t> big = {'M', 'M', 0, 42, 0, 0, 0, 8,
                                           0, 2,
                                           0x01, 0x00, 0, 4, 0, 0, 0, 1, 0x00, 0x01, 0x11, 0x70,
                                           0x01, 0x01, 0, 4, 0, 0, 0, 1, 0x00, 0x01, 0x11, 0x70,
                                           0, 0, 0, 0};
    write_bytes(dir / "little.tif", little);
    write_bytes(dir / "big.tif", big);
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "little.tif"); }),
                            "image is 70000x4464 (312480000 pixels), over the decode limit");
    IMPASTO_EXPECT_CONTAINS(error_message<InputError>([&] { load_image(dir / "big.tif"); }),
                            "image is 70000x70000 (4900000000 pixels), over the decode limit");
}

TEST(ImageLoad, BadLimitsAreAConfigError) {
    ImageLoadLimits limits;
    limits.min_side = 0;
    EXPECT_THROW(load_image("whatever.png", limits), ConfigError);
}

} // namespace
} // namespace impasto
