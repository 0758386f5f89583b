#pragma once
// Cheap checks on an image file's bytes before it is handed to a decoder: what format it is,
// whether it is complete, and how large it will be. Decoders are lenient (libjpeg fills a
// truncated JPEG with grey and only warns), so these checks are what turns a damaged file into
// a clear error instead of a silently wrong picture.
//
// The size is what the pixel limit is checked against before any pixel memory exists, so the
// probe reads it the way the decoder behind cv::imdecode (OpenCV 4.6) will: the first JPEG frame
// header (libjpeg stops there), IHDR as PNG's first chunk (libpng), the first occurrence of a TIFF
// tag in IFD0 in every field type libtiff accepts, BMP's core and info headers as OpenCV's own
// decoder reads them, WebP's first chunk as libwebp's WebPGetFeatures. Whatever the probe does not
// understand is refused rather than decoded blind: only these five formats are sniffed (OpenCV's
// other decoders, PNM, Sun raster, EXR, HDR, JPEG 2000, PFM, DICOM, never see our bytes), and a
// file whose size cannot be read is an error.
#include <cstddef>
#include <cstdint>

namespace impasto::detail {

enum class ImageFormat { Unknown, Jpeg, Png, Bmp, Tiff, Webp };

const char* format_name(ImageFormat format); // "JPEG", "PNG", ...

// The longest side OpenCV 4.6 decodes (its OPENCV_IO_MAX_IMAGE_WIDTH/HEIGHT default); longer
// sides are refused by the probe already, which also keeps width * height far from overflow.
inline constexpr std::int64_t kMaxImageSide = std::int64_t{1} << 20U;

// Recognises a format by its magic bytes only.
ImageFormat sniff_format(const std::uint8_t* data, std::size_t size);

struct ImageProbe {
    ImageFormat format = ImageFormat::Unknown;
    std::int64_t width = 0; // 1..kMaxImageSide after a successful probe
    std::int64_t height = 0;
    // Pixels of a working buffer the decoder allocates besides the image: OpenCV reads a TIFF one
    // strip or tile at a time into a buffer sized from RowsPerStrip or TileWidth x TileLength,
    // which the file states freely. 0 when the decoder needs none beyond the image.
    std::int64_t scratch_pixels = 0;
    bool has_alpha = false;  // the header announces transparency (PNG, WebP)
    int jpeg_components = 0; // 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK

    std::int64_t pixels() const { return width * height; } // bounded by kMaxImageSide squared
};

// Identifies the format, reads the dimensions from the header and checks that the file is
// complete (JPEG: an end-of-image marker after the last scan; PNG: an IEND chunk).
// Throws InputError with the reason only; the caller adds the file name.
ImageProbe probe_image(const std::uint8_t* data, std::size_t size);

} // namespace impasto::detail
