// The torch-free entry points: weight files, model files and images (see fuzz_entry.h).
#include "fuzz_entry.h"
#include "imdecode_hook.h"
#include "impasto/error.h"
#include "impasto/image.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"
#include "io/image_checks.h"
#include "io/torch_legacy.h"
#include "memory_file.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <zlib.h>

namespace impasto::fuzz {
namespace {

// The element count of `shape`, or -1 when a dimension is negative or the product overflows.
std::int64_t checked_numel(const std::vector<std::int64_t>& shape) {
    std::int64_t count = 1;
    for (const std::int64_t dim : shape) {
        if (dim < 0 || __builtin_mul_overflow(count, dim, &count)) {
            return -1;
        }
    }
    return count;
}

// Every tensor a reader returns holds exactly the bytes its dtype and shape call for.
void check_tensors(const TensorMap& tensors, const char* reader) {
    for (const auto& [name, tensor] : tensors) {
        const std::int64_t count = checked_numel(tensor.shape);
        std::int64_t bytes = 0;
        if (count < 0 || __builtin_mul_overflow(count, static_cast<std::int64_t>(dtype_size(tensor.dtype)), &bytes) ||
            static_cast<std::uint64_t>(bytes) != tensor.bytes.size()) {
            oracle_failure(std::string(reader) + ": tensor '" + name + "' holds " +
                           std::to_string(tensor.bytes.size()) + " bytes, which does not match its " +
                           dtype_name(tensor.dtype) + " shape of rank " + std::to_string(tensor.shape.size()));
        }
    }
}

void check_same(const TensorMap& original, const TensorMap& again, const char* format) {
    bool same = original.size() == again.size();
    for (auto a = original.begin(), b = again.begin(); same && a != original.end(); ++a, ++b) {
        same = a->first == b->first && a->second.dtype == b->second.dtype && a->second.shape == b->second.shape &&
               a->second.bytes == b->second.bytes;
    }
    if (!same) {
        oracle_failure(std::string(format) + ": the tensors read do not read back the same after writing them");
    }
}

// Writing back what a reader accepted must give a file that reads back the same.
template <class Write, class Read>
void check_round_trip(const TensorMap& tensors, const char* format, Write write, Read read) {
    std::string bytes;
    try {
        bytes = write(tensors);
    } catch (const Error& e) {
        oracle_failure(std::string(format) + ": the writer refuses what the reader accepted: " + e.what());
    }
    try {
        check_same(tensors, read(bytes), format);
    } catch (const Error& e) {
        oracle_failure(std::string(format) + ": the reader refuses what the writer wrote: " + e.what());
    }
}

const std::uint8_t* bytes_of(const std::string& text) {
    return reinterpret_cast<const std::uint8_t*>(text.data());
}

std::uint32_t load_le(const std::string& bytes, std::size_t at, int width) {
    std::uint32_t value = 0;
    for (int i = 0; i < width; ++i) {
        value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    }
    return value;
}

void store_le32(std::string& bytes, std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xffU);
    }
}

std::uint32_t crc_of(const char* data, std::size_t size) {
    return static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

// A fuzzing aid: mutated members would almost always fail their CRC-32 and stop the reader there.
// Rewrites the CRC of every stored (uncompressed) member that the central directory locates inside
// the file, in both headers; deflated members keep theirs, so the mismatch path stays reachable.
void repair_stored_crcs(std::string& zip) {
    const std::size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
    if (eocd == std::string::npos || zip.size() - eocd < 22) {
        return;
    }
    const std::uint32_t entries = load_le(zip, eocd + 10, 2);
    std::size_t at = load_le(zip, eocd + 16, 4);
    for (std::uint32_t e = 0; e < entries; ++e) {
        if (at > zip.size() || zip.size() - at < 46 || zip.compare(at, 4, "PK\x01\x02", 4) != 0) {
            return;
        }
        const std::uint32_t method = load_le(zip, at + 10, 2);
        const std::uint32_t stored_size = load_le(zip, at + 20, 4);
        const std::size_t local = load_le(zip, at + 42, 4);
        if (method == 0 && local < zip.size() && zip.size() - local >= 30 &&
            zip.compare(local, 4, "PK\x03\x04", 4) == 0) {
            const std::size_t data = local + 30 + load_le(zip, local + 26, 2) + load_le(zip, local + 28, 2);
            if (data <= zip.size() && zip.size() - data >= stored_size) {
                const std::uint32_t crc = crc_of(zip.data() + data, stored_size);
                store_le32(zip, at + 16, crc);
                store_le32(zip, local + 14, crc);
            }
        }
        at += 46 + load_le(zip, at + 28, 2) + load_le(zip, at + 30, 2) + load_le(zip, at + 32, 2);
    }
}

std::uint32_t load_be32(const std::string& bytes, std::size_t at) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
        value = (value << 8U) | static_cast<unsigned char>(bytes[at + i]);
    }
    return value;
}

// A fuzzing aid like repair_stored_crcs: libpng refuses a critical chunk (IHDR, IDAT...) whose CRC
// is wrong, so a mutated size would never reach the decoder. Rewrites every chunk's CRC.
void repair_png_crcs(std::string& png) {
    if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) != 0) {
        return;
    }
    std::size_t at = 8;
    while (png.size() - at >= 12) {
        const std::uint32_t length = load_be32(png, at);
        if (png.size() - at - 12 < length) {
            return;
        }
        const std::uint32_t crc = crc_of(png.data() + at + 4, length + 4U); // type and data
        for (int i = 0; i < 4; ++i) {
            png[at + 8 + length + i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xffU);
        }
        at += 12 + static_cast<std::size_t>(length);
    }
}

bool over_limit(std::int64_t width, std::int64_t height) {
    std::int64_t pixels = 0;
    return __builtin_mul_overflow(width, height, &pixels) || pixels > kImageFuzzMaxPixels;
}

} // namespace

void restart_with_opencv_limit(char** argv) {
    const std::string limit = std::to_string(kImageFuzzMaxPixels);
    const char* current = std::getenv(kOpenCvPixelLimitVariable);
    if (current != nullptr && limit == current) {
        return;
    }
    setenv(kOpenCvPixelLimitVariable, limit.c_str(), 1);
    execv("/proc/self/exe", argv);
    oracle_failure(std::string("cannot restart with ") + kOpenCvPixelLimitVariable + " set");
}

void torch_legacy(const std::uint8_t* data, std::size_t size) {
    TensorMap tensors;
    try {
        tensors = io::parse_torch_legacy(data, size, "fuzz.pth");
    } catch (const Error&) {
        return;
    }
    check_tensors(tensors, "legacy torch.save");
    check_round_trip(
        tensors, "legacy torch.save", [](const TensorMap& t) { return io::serialize_torch_legacy(t); },
        [](const std::string& b) { return io::parse_torch_legacy(bytes_of(b), b.size(), "round trip"); });
}

void torch_zip(const std::uint8_t* data, std::size_t size) {
    std::string zip(reinterpret_cast<const char*>(data), size);
    repair_stored_crcs(zip);
    TensorMap tensors;
    try {
        tensors = io::parse_torch_zip(zip, "fuzz.pt");
    } catch (const Error&) {
        return;
    }
    check_tensors(tensors, "zip torch.save");
    check_round_trip(
        tensors, "zip torch.save", [](const TensorMap& t) { return io::serialize_torch_zip(t); },
        [](const std::string& b) { return io::parse_torch_zip(b, "round trip"); });
}

void safetensors(const std::uint8_t* data, std::size_t size) {
    TensorMap tensors;
    StringMap metadata;
    try {
        tensors = parse_safetensors(data, size, "fuzz.safetensors", &metadata);
    } catch (const Error&) {
        return;
    }
    check_tensors(tensors, "safetensors");
    StringMap metadata_again;
    check_round_trip(
        tensors, "safetensors", [&](const TensorMap& t) { return serialize_safetensors(t, metadata); },
        [&](const std::string& b) { return parse_safetensors(bytes_of(b), b.size(), "round trip", &metadata_again); });
    if (metadata_again != metadata) {
        oracle_failure("safetensors: the metadata does not read back the same after writing it");
    }
}

void style_model(const std::uint8_t* data, std::size_t size) {
    static MemoryFile file("impasto-fuzz-model");
    file.assign(data, size);
    StyleModelFile model;
    try {
        model = read_style_model(file.path());
    } catch (const Error&) {
        return;
    }
    check_tensors(model.tensors, "impasto model");
    (void)describe_style_model(model); // what `impasto models show` and the studio print
}

void image(const std::uint8_t* original, std::size_t size) {
    std::string repaired(reinterpret_cast<const char*>(original), size);
    repair_png_crcs(repaired);
    const auto* data = reinterpret_cast<const std::uint8_t*>(repaired.data());
    static MemoryFile file("impasto-fuzz-image");
    static const bool opencv_limited = [] {
        const char* value = std::getenv(kOpenCvPixelLimitVariable);
        return value != nullptr && std::to_string(kImageFuzzMaxPixels) == value;
    }();
    if (!opencv_limited) {
        oracle_failure(std::string("the image entry needs ") + kOpenCvPixelLimitVariable + "=" +
                       std::to_string(kImageFuzzMaxPixels) + " from the start (restart_with_opencv_limit)");
    }
    file.assign(data, size);
    detail::ImageProbe probe;
    bool probed = false;
    try {
        probe = detail::probe_image(data, size);
        probed = true;
    } catch (const Error&) {
    }
    DecodeRecord& decoded = decode_record();
    decoded = DecodeRecord{};
    ImageLoadLimits limits;
    limits.max_pixels = kImageFuzzMaxPixels;
    Image loaded;
    try {
        loaded = load_image(file.path(), limits);
    } catch (const Error&) {
    }

    const std::string probed_size = std::to_string(probe.width) + "x" + std::to_string(probe.height);
    const std::string decoded_size = std::to_string(decoded.width) + "x" + std::to_string(decoded.height);
    if (!probed && decoded.calls > 0) {
        oracle_failure("the decoder was called on a file the probe refused");
    }
    const bool size_known = probe.width > 0 && probe.height > 0;
    if (size_known && over_limit(probe.width, probe.height) && decoded.calls > 0) {
        oracle_failure("the probe says " + probed_size + ", over the limit, yet the decoder was called");
    }
    if (decoded.header_over_limit) {
        oracle_failure(std::string("the decoder read a header over the limit, which the probe let through (probe: ") +
                       probed_size + ", format " + detail::format_name(probe.format) + ")");
    }
    if (decoded.width > 0 && !size_known) {
        oracle_failure("the decoder decoded " + decoded_size + " pixels of a " + detail::format_name(probe.format) +
                       " whose size the probe could not tell: the limit was never checked before decoding");
    }
    if (over_limit(decoded.width, decoded.height)) {
        oracle_failure("the decoder produced " + decoded_size + " pixels, over the limit (probe: " + probed_size +
                       ", format " + detail::format_name(probe.format) + ")");
    }
    const bool same = (decoded.width == probe.width && decoded.height == probe.height) ||
                      (decoded.width == probe.height && decoded.height == probe.width); // EXIF orientation
    if (size_known && decoded.width > 0 && !same) {
        oracle_failure(std::string("the probe and the decoder disagree on a ") + detail::format_name(probe.format) +
                       ": probe " + probed_size + ", decoded " + decoded_size);
    }
    if (!loaded.empty()) {
        if (loaded.width != decoded.width && loaded.width != decoded.height) {
            oracle_failure("load_image returned a size the decoder did not produce");
        }
        if (loaded.rgb.size() != static_cast<std::size_t>(loaded.width) * static_cast<std::size_t>(loaded.height) * 3) {
            oracle_failure("load_image returned an image whose pixels do not match its size");
        }
        for (const float value : loaded.rgb) {
            if (!(value >= 0.0F && value <= 1.0F)) {
                oracle_failure("load_image returned a value outside [0,1]: " + std::to_string(value));
            }
        }
    }
}

} // namespace impasto::fuzz
