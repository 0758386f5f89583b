#pragma once
// The per-format header readers behind probe_image (image_checks.h), one file per format family.
// Each sets the probe's size through set_image_size, or throws InputError with the reason.
#include "io/image_checks.h"

#include <cstddef>
#include <cstdint>

namespace impasto::detail {

// Checks 1 <= width, height <= kMaxImageSide and stores them; `format` names the file's format.
void set_image_size(ImageProbe& probe, std::int64_t width, std::int64_t height, const char* format);

void probe_jpeg(const std::uint8_t* data, std::size_t size, ImageProbe& probe);
void probe_tiff(const std::uint8_t* data, std::size_t size, ImageProbe& probe);

} // namespace impasto::detail
