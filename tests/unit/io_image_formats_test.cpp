// load_image on files written with libpng and libjpeg directly: palette PNGs with transparency,
// CMYK and YCCK JPEGs, and a JPEG whose EXIF orientation asks for a rotation.
#include "impasto/image.h"
#include "io_image_fixtures.h"
#include "testutil.h"

#include <array>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>

namespace impasto {
namespace {
using namespace impasto::testing;

// A 12x8 palette PNG in three 4-pixel-wide bands: opaque red, transparent black, blue at
// alpha 102/255 (when `transparency` is set; otherwise all opaque).
void write_palette_png(const std::filesystem::path& file, bool transparency) {
    FILE* fp = std::fopen(file.c_str(), "wb");
    ASSERT_NE(fp, nullptr);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        std::fclose(fp);
        FAIL() << "libpng failed";
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, 12, 8, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    std::array<png_color, 3> palette = {{{255, 0, 0}, {0, 0, 0}, {0, 0, 255}}};
    png_set_PLTE(png, info, palette.data(), 3);
    std::array<png_byte, 3> alpha = {255, 0, 102};
    if (transparency) {
        png_set_tRNS(png, info, alpha.data(), 3, nullptr);
    }
    png_write_info(png, info);
    std::array<png_byte, 12> row{};
    for (int x = 0; x < 12; ++x) {
        row[x] = static_cast<png_byte>(x / 4);
    }
    for (int y = 0; y < 8; ++y) {
        png_write_row(png, row.data());
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    std::fclose(fp);
}

TEST(ImageFormats, PalettePngWithAlphaIsCompositedOverWhite) {
    TempDir dir;
    write_palette_png(dir / "palette.png", true);
    const Image image = load_image(dir / "palette.png");
    ASSERT_EQ(image.width, 12);
    ASSERT_EQ(image.height, 8);
    const float a = 102.0F / 255.0F;
    const std::array<std::array<float, 3>, 3> expected = {{{1, 0, 0}, {1, 1, 1}, {1 - a, 1 - a, 1}}};
    for (int band = 0; band < 3; ++band) {
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(image.pixel(band * 4 + 1, 5)[c], expected[band][c], 1e-6F) << "band " << band;
        }
    }
}

TEST(ImageFormats, PalettePngWithoutAlpha) {
    TempDir dir;
    write_palette_png(dir / "palette.png", false);
    const Image image = load_image(dir / "palette.png");
    EXPECT_FLOAT_EQ(image.pixel(5, 0)[0], 0.0F); // black band stays black
    EXPECT_FLOAT_EQ(image.pixel(9, 0)[2], 1.0F);
    EXPECT_FLOAT_EQ(image.pixel(9, 0)[0], 0.0F);
}

// Four-channel JPEG as Photoshop writes it: Adobe APP14 marker and inverted values (255 = no
// ink). `ink` gives the ink amounts (C, M, Y, K) at a pixel.
std::vector<std::uint8_t> cmyk_jpeg(int width, int height, J_COLOR_SPACE stored,
                                    const std::function<std::array<int, 4>(int, int)>& ink) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr jerr{};
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char* memory = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &memory, &size);
    cinfo.image_width = static_cast<JDIMENSION>(width);
    cinfo.image_height = static_cast<JDIMENSION>(height);
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_colorspace(&cinfo, stored);
    jpeg_set_quality(&cinfo, 100, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    std::vector<JSAMPLE> row(static_cast<std::size_t>(width) * 4);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const std::array<int, 4> amounts = ink(x, y);
            for (int c = 0; c < 4; ++c) {
                row[static_cast<std::size_t>(x) * 4 + c] = static_cast<JSAMPLE>(255 - amounts[c]);
            }
        }
        JSAMPROW pointer = row.data();
        jpeg_write_scanlines(&cinfo, &pointer, 1);
    }
    jpeg_finish_compress(&cinfo);
    std::vector<std::uint8_t> bytes(memory, memory + size);
    std::free(memory);
    jpeg_destroy_compress(&cinfo);
    return bytes;
}

// Left half pure cyan ink, right half 50% black ink (16x16 blocks, so no chroma bleeding).
std::array<int, 4> cyan_and_grey(int x, int /*y*/) {
    return x < 16 ? std::array<int, 4>{255, 0, 0, 0} : std::array<int, 4>{0, 0, 0, 128};
}

TEST(ImageFormats, CmykJpegIsConvertedWithAdobeInversion) {
    for (J_COLOR_SPACE stored : {JCS_CMYK, JCS_YCCK}) {
        TempDir dir;
        const std::vector<std::uint8_t> bytes = cmyk_jpeg(32, 16, stored, cyan_and_grey);
        // libjpeg marks four-channel files with the Adobe APP14 marker, as Photoshop does.
        EXPECT_NE(std::string(bytes.begin(), bytes.end()).find("Adobe"), std::string::npos);
        write_bytes(dir / "cmyk.jpg", bytes);
        const Image image = load_image(dir / "cmyk.jpg");
        ASSERT_EQ(image.width, 32);
        ASSERT_EQ(image.height, 16);
        // Cyan ink absorbs red: RGB ~ (0, 1, 1).
        EXPECT_NEAR(image.pixel(4, 8)[0], 0.0F, 0.02F) << "stored as " << stored;
        EXPECT_NEAR(image.pixel(4, 8)[1], 1.0F, 0.02F);
        EXPECT_NEAR(image.pixel(4, 8)[2], 1.0F, 0.02F);
        // 128/255 black ink leaves 127/255 of the light.
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(image.pixel(24, 8)[c], 127.0F / 255.0F, 0.02F) << "stored as " << stored;
        }
    }
}

// An APP1 Exif segment (big-endian TIFF) holding a single tag, Orientation = `orientation`.
std::vector<std::uint8_t> exif_orientation_segment(std::uint8_t orientation) {
    return {0xFF, 0xE1, 0x00, 34,   'E', 'x', 'i', 'f', 0, 0,                 // APP1, length 34
            'M',  'M',  0x00, 0x2A, 0,   0,   0,   8,                         // TIFF header, IFD at 8
            0,    1,                                                          // one entry
            0x01, 0x12, 0,    3,    0,   0,   0,   1,   0, orientation, 0, 0, // Orientation, SHORT
            0,    0,    0,    0};                                             // no next IFD
}

TEST(ImageFormats, ExifOrientationIsApplied) {
    TempDir dir;
    // Stored 32x16: top-left 16x8 block red, the rest blue.
    Image stored = solid_image(32, 16, 0.0F, 0.0F, 1.0F);
    for (int y = 0; y < 8; ++y) {
        for (int x = 0; x < 16; ++x) {
            float* p = stored.pixel(x, y);
            p[0] = 1.0F;
            p[2] = 0.0F;
        }
    }
    save_image(stored, dir / "plain.jpg", 100);
    std::vector<std::uint8_t> bytes = read_bytes(dir / "plain.jpg");
    const std::vector<std::uint8_t> app1 = exif_orientation_segment(6);
    bytes.insert(bytes.begin() + 2, app1.begin(), app1.end()); // right after SOI
    write_bytes(dir / "rotated.jpg", bytes);

    // Orientation 6: displayed = stored turned 90 degrees clockwise, so stored (x, y) shows at
    // (H-1-y, x) and the red block moves to the top right.
    const Image image = load_image(dir / "rotated.jpg");
    ASSERT_EQ(image.width, 16);
    ASSERT_EQ(image.height, 32);
    EXPECT_NEAR(image.pixel(15, 0)[0], 1.0F, 0.05F);
    EXPECT_NEAR(image.pixel(15, 0)[2], 0.0F, 0.05F);
    EXPECT_NEAR(image.pixel(0, 0)[0], 0.0F, 0.05F);
    EXPECT_NEAR(image.pixel(0, 0)[2], 1.0F, 0.05F);
    EXPECT_NEAR(image.pixel(12, 31)[2], 1.0F, 0.05F);
}

} // namespace
} // namespace impasto
