// TIFF: the size from IFD0 as libtiff reads it, and the strip or tile buffer OpenCV sizes from it
// (see image_checks.h).
#include "impasto/error.h"
#include "io/image_probe_formats.h"

#include <fmt/format.h>
#include <map>
#include <optional>

namespace impasto::detail {
namespace {

constexpr std::uint32_t kImageWidth = 256;
constexpr std::uint32_t kImageLength = 257;
constexpr std::uint32_t kRowsPerStrip = 278;
constexpr std::uint32_t kTileWidth = 322;
constexpr std::uint32_t kTileLength = 323;
// libtiff refuses directories with more entries as not being a directory at all.
constexpr std::size_t kMaxDirectoryEntries = 4096;

class TiffReader {
  public:
    TiffReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size), little_(data[0] == 'I') {}

    std::uint64_t u16(std::size_t at) const { return read(at, 2); }
    std::uint64_t u32(std::size_t at) const { return read(at, 4); }
    std::uint64_t u64(std::size_t at) const { return read(at, 8); }
    std::uint8_t byte(std::size_t at) const { return data_[at]; }
    std::size_t size() const { return size_; }

  private:
    // Callers check that [at, at + count) lies inside the file.
    std::uint64_t read(std::size_t at, int count) const {
        std::uint64_t value = 0;
        for (int i = 0; i < count; ++i) {
            const std::uint64_t b = data_[at + static_cast<std::size_t>(i)];
            value |= little_ ? b << (8 * i) : b << (8 * (count - 1 - i));
        }
        return value;
    }

    const std::uint8_t* data_;
    std::size_t size_;
    bool little_;
};

// A size-like tag's single value, read as libtiff's TIFFReadDirEntryLong does: BYTE, SHORT, LONG
// and LONG8 as they are, the signed types when not negative, LONG8 values (stored after the
// directory in a classic TIFF) when they fit in 32 bits. libtiff fails the whole directory on
// any other type or a count other than 1, and so does this.
std::uint32_t read_size_tag(const TiffReader& tiff, std::size_t entry, std::uint32_t tag) {
    const std::uint64_t type = tiff.u16(entry + 2);
    const std::uint64_t count = tiff.u32(entry + 4);
    if (count != 1) {
        throw InputError(fmt::format("corrupt TIFF (tag {} holds {} values, not 1)", tag, count));
    }
    const auto refuse_negative = [&](bool negative) {
        if (negative) {
            throw InputError(fmt::format("corrupt TIFF (tag {} is negative)", tag));
        }
    };
    std::uint64_t value = 0;
    switch (type) {
    case 1: // BYTE
        value = tiff.byte(entry + 8);
        break;
    case 6: // SBYTE
        value = tiff.byte(entry + 8);
        refuse_negative(value >= 0x80);
        break;
    case 3: // SHORT
        value = tiff.u16(entry + 8);
        break;
    case 8: // SSHORT
        value = tiff.u16(entry + 8);
        refuse_negative(value >= 0x8000);
        break;
    case 4: // LONG
        value = tiff.u32(entry + 8);
        break;
    case 9: // SLONG
        value = tiff.u32(entry + 8);
        refuse_negative(value >= 0x80000000U);
        break;
    case 16:   // LONG8
    case 17: { // SLONG8
        const std::uint64_t offset = tiff.u32(entry + 8);
        if (offset > tiff.size() || tiff.size() - offset < 8) {
            throw InputError(fmt::format("corrupt TIFF (tag {} points outside the file)", tag));
        }
        value = tiff.u64(static_cast<std::size_t>(offset));
        refuse_negative(type == 17 && value >= (std::uint64_t{1} << 63U));
        if (value > 0xFFFFFFFFU) {
            throw InputError(fmt::format("corrupt TIFF (tag {} is {}, beyond 32 bits)", tag, value));
        }
        break;
    }
    default:
        throw InputError(
            fmt::format("corrupt TIFF (tag {} has field type {}, which TIFF readers refuse for it)", tag, type));
    }
    return static_cast<std::uint32_t>(value);
}

} // namespace

// Reads IFD0, the directory cv::imdecode decodes (later pages and SubIFDs are not read). libtiff
// ignores every repetition of a tag after its first occurrence, so the first one counts here too.
void probe_tiff(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    if (size < 8) {
        throw InputError("truncated TIFF (header incomplete)");
    }
    const TiffReader tiff(data, size);
    const std::uint64_t ifd = tiff.u32(4);
    if (ifd < 8 || ifd > size || size - ifd < 2) {
        throw InputError(fmt::format("corrupt TIFF (first directory at byte {} of {})", ifd, size));
    }
    const std::uint64_t entries = tiff.u16(ifd);
    if (entries == 0 || entries > kMaxDirectoryEntries) {
        throw InputError(fmt::format("corrupt TIFF (first directory has {} entries)", entries));
    }
    if ((size - ifd - 2) / 12 < entries) {
        throw InputError(fmt::format("truncated TIFF (first directory of {} entries runs past the end)", entries));
    }
    std::map<std::uint32_t, std::uint32_t> values;
    for (std::size_t i = 0; i < entries; ++i) {
        const std::size_t entry = ifd + 2 + i * 12;
        const auto tag = static_cast<std::uint32_t>(tiff.u16(entry));
        const bool wanted = tag == kImageWidth || tag == kImageLength || tag == kRowsPerStrip || tag == kTileWidth ||
                            tag == kTileLength;
        if (wanted && values.count(tag) == 0) {
            values[tag] = read_size_tag(tiff, entry, tag);
        }
    }
    const auto value_of = [&](std::uint32_t tag) -> std::optional<std::uint64_t> {
        const auto found = values.find(tag);
        return found == values.end() ? std::nullopt : std::optional<std::uint64_t>(found->second);
    };
    const std::uint64_t width = value_of(kImageWidth).value_or(0);
    const std::uint64_t height = value_of(kImageLength).value_or(0);
    if (width == 0 || height == 0) {
        throw InputError(fmt::format("corrupt TIFF (first directory gives a size of {}x{})", width, height));
    }
    set_image_size(probe, static_cast<std::int64_t>(width), static_cast<std::int64_t>(height), "TIFF");
    // OpenCV's buffer for one strip or tile: 0 means the whole image in that direction, and for
    // strips so does 2^32-1 (libtiff's "one strip"). Each factor is below 2^32: no overflow.
    std::uint64_t scratch_width = width;
    std::uint64_t scratch_height = height;
    if (value_of(kTileWidth) || value_of(kTileLength)) {
        scratch_width = value_of(kTileWidth).value_or(0) == 0 ? width : *value_of(kTileWidth);
        scratch_height = value_of(kTileLength).value_or(0) == 0 ? height : *value_of(kTileLength);
    } else if (const auto rows = value_of(kRowsPerStrip); rows && *rows != 0 && *rows != 0xFFFFFFFFU) {
        scratch_height = *rows;
    }
    const std::uint64_t scratch = scratch_width * scratch_height;
    probe.scratch_pixels =
        scratch > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(scratch);
}

} // namespace impasto::detail
