#pragma once
// Images as the library sees them: interleaved RGB float32 in [0,1], sRGB assumed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace impasto {

struct Image {
    int width = 0;
    int height = 0;
    std::vector<float> rgb; // width*height*3, row-major, interleaved R,G,B

    bool empty() const { return width == 0 || height == 0; }
    float* pixel(int x, int y) { return rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
    const float* pixel(int x, int y) const { return rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3; }
};

// The largest image, in pixels, the library decodes or puts through a network unless a caller
// sets a lower limit: a 200 MP camera frame decodes (to be scaled down); a 16384 px square does not.
inline constexpr std::int64_t kDefaultMaxPixels = 200'000'000;

struct ImageLoadLimits {
    std::int64_t max_pixels = kDefaultMaxPixels; // decode limit, checked before decoding
    int min_side = 8;                            // smaller images are refused clearly
};

// Decodes JPEG (incl. CMYK, EXIF-rotated), PNG (8/16-bit, grey, palette, alpha over white),
// BMP, TIFF and WebP. Throws InputError naming the file and the reason: missing, empty,
// truncated, not an image, too small, too large.
Image load_image(const std::filesystem::path& file, const ImageLoadLimits& limits = {});

// Encodes by the extension (.png, .jpg/.jpeg, .bmp, .tif/.tiff, .webp) and writes atomically:
// a temporary file in the same folder, then a rename. Throws OutputError.
void save_image(const Image& image, const std::filesystem::path& file, int jpeg_quality = 95);

// PNG bytes (8-bit RGB) of an image, for previews sent to the studio. Throws OutputError.
std::vector<std::uint8_t> encode_png(const Image& image);

// JPEG bytes (8-bit RGB, baseline) of an image at `quality` 1..100, for thumbnails inlined in reports.
// Throws ConfigError (quality out of range, empty image) or OutputError (encoder failure).
std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality = 85);

// The output extensions save_image accepts, lower case with the dot: ".png", ".jpg", ...
const std::vector<std::string>& known_image_extensions();

// Throws OutputError unless `file` could be written: its folder exists and is writable, the
// extension is a known image format, and it is not one of `inputs`.
void check_output_path(const std::filesystem::path& file, const std::vector<std::filesystem::path>& inputs);

// High-quality resampling (area when shrinking, cubic when growing), values clamped to [0,1].
Image resize_image(const Image& image, int width, int height);
// Scale so that the longer side is `long_side`, keeping the aspect ratio (sides >= 1).
Image resize_long_side(const Image& image, int long_side);

} // namespace impasto
