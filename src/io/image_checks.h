#pragma once
// Cheap checks on an image file's bytes before it is handed to a decoder: what format it is,
// whether it is complete, and how large it will be. Decoders are lenient (libjpeg fills a
// truncated JPEG with grey and only warns), so these checks are what turns a damaged file into
// a clear error instead of a silently wrong picture.
#include <cstddef>
#include <cstdint>

namespace impasto::detail {

enum class ImageFormat { Unknown, Jpeg, Png, Bmp, Tiff, Webp };

const char* format_name(ImageFormat format); // "JPEG", "PNG", ...

// Recognises a format by its magic bytes only.
ImageFormat sniff_format(const std::uint8_t* data, std::size_t size);

struct ImageProbe {
    ImageFormat format = ImageFormat::Unknown;
    std::int64_t width = 0; // 0 when the header does not say (BigTIFF, unusual TIFF and BMP headers)
    std::int64_t height = 0;
    bool has_alpha = false;  // the header announces transparency (PNG, WebP)
    int jpeg_components = 0; // 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK
};

// Identifies the format, reads the dimensions from the header and checks that the file is
// complete (JPEG: an end-of-image marker after the last scan; PNG: an IEND chunk).
// Throws InputError with the reason only; the caller adds the file name.
ImageProbe probe_image(const std::uint8_t* data, std::size_t size);

} // namespace impasto::detail
