// Image headers crafted so that a probe reading them differently from the decoder would let the
// pixel limit be bypassed: TIFF sizes in every field type, repeated tags and oversized strips or
// tiles; JPEG files with two frame headers or a height of 0; BMP core and short info headers;
// bare WebP bitstreams; PNG IHDR variants. Each file is refused or probed at the decoder's size,
// and a file over the limit is refused before the decoder sees it.
#include "impasto/error.h"
#include "impasto/image.h"
#include "io_image_fixtures.h"
#include "io_image_oracle.h"
#include "testutil.h"

#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>

namespace impasto {
namespace {
using namespace impasto::testing;

void put16(Bytes& b, std::uint32_t v) {
    b.push_back(static_cast<std::uint8_t>(v & 0xFF));
    b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
}
void put32(Bytes& b, std::uint32_t v) {
    put16(b, v & 0xFFFF);
    put16(b, v >> 16);
}

struct TiffTag {
    std::uint16_t tag;
    std::uint16_t type;
    std::uint32_t count;
    std::uint64_t value;
};

// A little-endian, uncompressed 8-bit grey TIFF of `tags` in IFD0; values that do not fit in the
// entry are stored after it. StripOffsets (273) is set to the pixels, `pixels` bytes of them.
Bytes tiff_file(const std::vector<TiffTag>& tags, std::size_t pixels) {
    static const int kTypeSize[19] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8};
    Bytes b = {'I', 'I', 42, 0};
    put32(b, 8);
    const std::size_t after_ifd = 8 + 2 + tags.size() * 12 + 4;
    Bytes outside;
    const std::size_t pixel_offset = after_ifd + 16 * tags.size();
    put16(b, static_cast<std::uint32_t>(tags.size()));
    for (const TiffTag& t : tags) {
        put16(b, t.tag);
        put16(b, t.type);
        put32(b, t.count);
        const std::uint64_t value = t.tag == 273 ? pixel_offset : t.value;
        const std::size_t size = (t.type < 19 ? kTypeSize[t.type] : 4) * std::size_t{t.count};
        if (size <= 4) {
            for (int i = 0; i < 4; ++i) {
                b.push_back(static_cast<std::uint8_t>((value >> (8 * i)) & 0xFF));
            }
        } else {
            put32(b, static_cast<std::uint32_t>(after_ifd + outside.size()));
            for (std::size_t i = 0; i < size; ++i) {
                outside.push_back(i < 8 ? static_cast<std::uint8_t>((value >> (8 * i)) & 0xFF) : 0);
            }
        }
    }
    put32(b, 0);
    b.insert(b.end(), outside.begin(), outside.end());
    b.resize(pixel_offset, 0);
    for (std::size_t i = 0; i < pixels; ++i) {
        b.push_back(static_cast<std::uint8_t>(i * 7));
    }
    return b;
}

// ImageWidth and ImageLength in the given field types, then the tags a decoder needs.
std::vector<TiffTag> grey_tags(std::uint16_t width_type, std::uint64_t width, std::uint16_t height_type,
                               std::uint64_t height) {
    return {{256, width_type, 1, width},
            {257, height_type, 1, height},
            {258, 3, 1, 8},
            {259, 3, 1, 1},
            {262, 3, 1, 1},
            {273, 4, 1, 0},
            {277, 3, 1, 1},
            {278, 4, 1, height},
            {279, 4, 1, width * height}};
}

std::string load_error(const Bytes& bytes, const std::string& name, std::int64_t max_pixels) {
    TempDir dir;
    write_bytes(dir / name, bytes);
    ImageLoadLimits limits;
    limits.max_pixels = max_pixels;
    limits.min_side = 1;
    try {
        load_image(dir / name, limits);
    } catch (const InputError& e) {
        return e.what();
    }
    return "(loaded)";
}

// Refused before decoding: the message is the limit's, not the decoder's.
#define EXPECT_LIMIT_BEFORE_DECODING(bytes, name, max_pixels)                                                          \
    do {                                                                                                               \
        const std::string message = load_error(bytes, name, max_pixels);                                               \
        EXPECT_NE(message.find("over the decode limit"), std::string::npos) << message;                                \
    } while (0)

} // namespace

// libtiff reads ImageWidth from BYTE, SHORT, LONG, SBYTE, SSHORT, SLONG, LONG8 and SLONG8
// fields; the probe read only SHORT and LONG and took the others as "size unknown".
TEST(HostileImages, TiffSizeInEveryFieldTypeTheDecoderAccepts) {
    for (const std::uint16_t type : {1, 3, 4, 6, 8, 9, 16, 17}) {
        const Bytes bytes = tiff_file(grey_tags(type, 16, 3, 12), 16 * 12);
        ASSERT_TRUE(decoded_size(bytes, cv::IMREAD_UNCHANGED).has_value()) << "type " << type;
        EXPECT_TRUE(probe_agrees_with_decoder(bytes)) << "type " << type;
        const auto probe = probe_or_refuse(bytes);
        ASSERT_TRUE(probe.has_value()) << "type " << type;
        EXPECT_EQ(probe->width, 16) << "type " << type;
    }
    // Types libtiff refuses for a size (ASCII, RATIONAL, UNDEFINED, SRATIONAL, FLOAT, DOUBLE, IFD,
    // IFD8): the decoder fails, and the probe must not report a size of 0 as if all were well.
    for (const std::uint16_t type : {2, 5, 7, 10, 11, 12, 13, 18}) {
        const Bytes bytes = tiff_file(grey_tags(type, 16, 3, 12), 16 * 12);
        EXPECT_FALSE(probe_or_refuse(bytes).has_value()) << "type " << type;
    }
}

TEST(HostileImages, TiffLimitHoldsInEveryFieldType) {
    for (const std::uint16_t type : {3, 4, 8, 9, 16, 17}) {
        // 200 x 200 claimed, no pixel data: refused by the limit, never by the decoder.
        EXPECT_LIMIT_BEFORE_DECODING(tiff_file(grey_tags(type, 200, type, 200), 0), "claims.tif", 1000);
    }
    EXPECT_LIMIT_BEFORE_DECODING(tiff_file(grey_tags(1, 200, 1, 200), 0), "claims.tif", 1000);
}

// libtiff keeps the first of repeated tags; the probe kept the last.
TEST(HostileImages, TiffFirstOfRepeatedTagsCounts) {
    std::vector<TiffTag> tags = grey_tags(3, 100, 3, 12);
    tags.insert(tags.begin() + 1, TiffTag{256, 3, 1, 16});
    const Bytes bytes = tiff_file(tags, 100 * 12);
    EXPECT_TRUE(probe_refuses_or_reads(bytes, 100, 12));
    EXPECT_TRUE(probe_agrees_with_decoder(bytes));
    EXPECT_LIMIT_BEFORE_DECODING(tiff_file(tags, 0), "repeated.tif", 1000);
}

// OpenCV sizes its strip buffer from RowsPerStrip (and its tile buffer from the tile size), not
// from the image: a 64x8 image with 2^21 rows per strip asked for 512 MB.
TEST(HostileImages, TiffStripAndTileBuffersAreLimited) {
    std::vector<TiffTag> strips = grey_tags(3, 64, 3, 8);
    strips[7].value = 1U << 21U;
    const std::string strip_error = load_error(tiff_file(strips, 64 * 8), "strips.tif", 10000);
    EXPECT_NE(strip_error.find("TIFF strips or tiles of 134217728 pixels each"), std::string::npos) << strip_error;
    std::vector<TiffTag> tiles = grey_tags(3, 16, 3, 16);
    tiles.push_back({322, 3, 1, 4096});
    tiles.push_back({323, 3, 1, 4096});
    const std::string tile_error = load_error(tiff_file(tiles, 16 * 16), "tiles.tif", 10000);
    EXPECT_NE(tile_error.find("strips or tiles of 16777216 pixels"), std::string::npos) << tile_error;
    // "One strip" (2^32-1) and a strip taller than the image are the image's own size.
    strips[7].value = 0xFFFFFFFFU;
    EXPECT_EQ(load_error(tiff_file(strips, 64 * 8), "one.tif", 10000), "(loaded)");
}

TEST(HostileImages, TiffDirectoryMustBeWhole) {
    std::vector<TiffTag> tags = grey_tags(3, 16, 3, 12);
    tags[0].count = 2; // libtiff refuses a size with two values
    EXPECT_FALSE(probe_or_refuse(tiff_file(tags, 16 * 12)).has_value());
    Bytes cut = tiff_file(grey_tags(3, 16, 3, 12), 0);
    cut.resize(8 + 2 + 3 * 12); // the directory says 9 entries
    EXPECT_FALSE(probe_or_refuse(cut).has_value());
    EXPECT_FALSE(probe_or_refuse(tiff_file(grey_tags(3, 0, 3, 12), 0)).has_value());
    EXPECT_FALSE(probe_or_refuse(tiff_file(grey_tags(8, 0xFFF0, 3, 12), 0)).has_value()); // negative SSHORT
    EXPECT_FALSE(probe_or_refuse(tiff_file(grey_tags(16, (std::uint64_t{1} << 32) + 16, 3, 12), 0)).has_value());
}

// libjpeg takes the first frame header (jpeg_read_header stops at the first scan) and fails on a
// second; the probe took the last, so a second, small one after the scan hid a large first one.
TEST(HostileImages, JpegFirstFrameHeaderCounts) {
    Bytes bytes = encoded(".jpg", 16, 16);
    std::size_t sof = 2;
    while (!(bytes[sof] == 0xFF && bytes[sof + 1] == 0xC0)) {
        ++sof;
    }
    const Bytes small_frame(bytes.begin() + static_cast<std::ptrdiff_t>(sof),
                            bytes.begin() +
                                static_cast<std::ptrdiff_t>(sof + 2 + (bytes[sof + 2] << 8) + bytes[sof + 3]));
    bytes[sof + 5] = 0;
    bytes[sof + 6] = 64; // the first frame header now says 64 wide, 16 high
    bytes.insert(bytes.end() - 2, small_frame.begin(), small_frame.end()); // a 16x16 one before EOI
    EXPECT_TRUE(probe_refuses_or_reads(bytes, 16, 64));
    const auto probe = probe_or_refuse(bytes);
    EXPECT_FALSE(probe.has_value() && probe->width == 16 && probe->height == 16);
    EXPECT_TRUE(probe_agrees_with_decoder(bytes));
}

// A height of 0 defers it to a DNL marker: libjpeg refuses it, and the probe reported 0 ("unknown").
TEST(HostileImages, JpegHeightZeroIsRefused) {
    Bytes bytes = encoded(".jpg", 16, 16);
    std::size_t sof = 2;
    while (!(bytes[sof] == 0xFF && bytes[sof + 1] == 0xC0)) {
        ++sof;
    }
    bytes[sof + 5] = 0;
    bytes[sof + 6] = 0;
    EXPECT_FALSE(probe_or_refuse(bytes).has_value());
    EXPECT_TRUE(probe_agrees_with_decoder(bytes));
}

// The 12-byte BMP core header (16-bit sides) and info headers of 36 to 39 bytes: OpenCV decodes
// both, and the probe left both "unknown".
TEST(HostileImages, BmpCoreAndShortInfoHeaders) {
    Bytes core = {'B', 'M'};
    const std::uint32_t width = 20;
    const std::uint32_t height = 10;
    const std::uint32_t stride = (width * 3 + 3) & ~3U;
    put32(core, 26 + stride * height);
    put32(core, 0);
    put32(core, 26); // pixel offset
    put32(core, 12); // BITMAPCOREHEADER
    put16(core, width);
    put16(core, height);
    put16(core, 1);
    put16(core, 24);
    core.resize(26 + stride * height, 0x40);
    ASSERT_TRUE(decoded_size(core, cv::IMREAD_COLOR).has_value());
    EXPECT_TRUE(probe_refuses_or_reads(core, 20, 10));
    EXPECT_TRUE(probe_agrees_with_decoder(core));
    Bytes claims = core;
    claims[18] = 0xC8; // 200 x 10 claimed
    claims[20] = 0xC8; // 200 x 200
    claims.resize(26);
    EXPECT_LIMIT_BEFORE_DECODING(claims, "core.bmp", 1000);

    Bytes info = encoded(".bmp", 20, 10);
    info[14] = 36; // an info header of 36 bytes: OpenCV reads the same fields
    ASSERT_TRUE(decoded_size(info, cv::IMREAD_COLOR).has_value());
    EXPECT_TRUE(probe_refuses_or_reads(info, 20, 10));
    info[14] = 20; // neither 12 nor 36 and more: OpenCV refuses it
    EXPECT_FALSE(probe_or_refuse(info).has_value());
}

TEST(HostileImages, BmpHeightSignAndExtremes) {
    Bytes top_down = encoded(".bmp", 20, 10);
    const std::int32_t negative = -10;
    std::memcpy(top_down.data() + 22, &negative, 4);
    EXPECT_TRUE(probe_refuses_or_reads(top_down, 20, 10));
    EXPECT_TRUE(probe_agrees_with_decoder(top_down));
    Bytes lowest = top_down;
    const std::int32_t int_min = INT32_MIN;
    std::memcpy(lowest.data() + 22, &int_min, 4);
    EXPECT_FALSE(probe_or_refuse(lowest).has_value());
    Bytes zero = top_down;
    std::memset(zero.data() + 22, 0, 4);
    EXPECT_FALSE(probe_or_refuse(zero).has_value());
}

// RIFF/WEBP followed by a bare VP8 bitstream (no chunk header): libwebp decodes it, the probe
// read no size.
TEST(HostileImages, WebpLayoutsTheProbeDoesNotReadAreRefused) {
    const Bytes lossy = encoded(".webp", 24, 16, 3, {cv::IMWRITE_WEBP_QUALITY, 80});
    ASSERT_EQ(std::string(lossy.begin() + 12, lossy.begin() + 16), "VP8 ");
    Bytes bare = lossy;
    bare.erase(bare.begin() + 12, bare.begin() + 20); // "VP8 " and the chunk size
    const std::uint32_t riff_size = static_cast<std::uint32_t>(bare.size() - 8);
    std::memcpy(bare.data() + 4, &riff_size, 4);
    EXPECT_TRUE(probe_refuses_or_reads(bare, 24, 16));
    EXPECT_TRUE(probe_agrees_with_decoder(bare));
    Bytes unknown_chunk = lossy;
    std::memcpy(unknown_chunk.data() + 12, "ALPH", 4);
    EXPECT_TRUE(probe_agrees_with_decoder(unknown_chunk));
}

TEST(HostileImages, PngHeaderMustBeWhatLibpngReads) {
    const Bytes png = encoded(".png", 16, 12);
    EXPECT_TRUE(probe_agrees_with_decoder(png));
    Bytes zero_width = png;
    std::memset(zero_width.data() + 16, 0, 4);
    EXPECT_FALSE(probe_or_refuse(zero_width).has_value());
    Bytes long_ihdr = png;
    long_ihdr[11] = 14; // libpng wants exactly 13 bytes
    EXPECT_FALSE(probe_or_refuse(long_ihdr).has_value());
    Bytes wide = png;
    const std::uint8_t over[4] = {0x00, 0x10, 0x00, 0x01}; // 2^20 + 1
    std::memcpy(wide.data() + 16, over, 4);
    EXPECT_FALSE(probe_or_refuse(wide).has_value());
}

// OpenCV 4.6 also decodes PNM, PAM, PFM, Sun raster, Radiance HDR, OpenEXR and JPEG 2000 (and
// DICOM through GDCM). The probe does not read their headers, so they are refused, not decoded blind.
TEST(HostileImages, FormatsTheProbeDoesNotReadAreRefused) {
    for (const char* ext : {".ppm", ".pgm", ".pbm", ".pam", ".pfm", ".ras", ".hdr", ".exr", ".jp2"}) {
        const std::string name = ext;
        const bool grey = name == ".pgm" || name == ".pbm";
        const bool floating = name == ".pfm" || name == ".hdr" || name == ".exr";
        cv::Mat image(64, 64, CV_8UC(grey ? 1 : 3), cv::Scalar(10, 20, 30)); // OpenJPEG needs 32+ a side
        if (floating) {
            image.convertTo(image, CV_32FC3, 1.0 / 255.0);
        }
        std::vector<std::uint8_t> bytes;
        try {
            ASSERT_TRUE(cv::imencode(ext, image, bytes)) << ext;
        } catch (const cv::Exception& e) {
            ADD_FAILURE() << ext << ": " << e.what();
            continue;
        }
        ASSERT_TRUE(decoded_size(bytes, cv::IMREAD_UNCHANGED).has_value()) << ext << " should decode in OpenCV";
        EXPECT_FALSE(probe_or_refuse(bytes).has_value()) << ext;
        IMPASTO_EXPECT_CONTAINS(load_error(bytes, std::string("x") + ext, 1000), "not an image (unrecognised format)");
    }
}

} // namespace impasto
