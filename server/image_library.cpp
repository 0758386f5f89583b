#include "server/image_library.h"

#include "io/image_checks.h"
#include "server/image_files.h"
#include "server/studio_error.h"

#include <algorithm>

namespace impasto::studio {

namespace fs = std::filesystem;
using image_files::read_bytes;
using image_files::select;

namespace {

constexpr std::size_t kThumbnailCacheEntries = 512;
// A 2048 px JPEG is about a megabyte: entries alone would not bound the cache's memory.
constexpr std::size_t kThumbnailCacheBytes = std::size_t{64} * 1024U * 1024U;

std::string content_type_for(const std::string& format) {
    if (format == "JPEG") {
        return "image/jpeg";
    }
    if (format == "PNG") {
        return "image/png";
    }
    if (format == "BMP") {
        return "image/bmp";
    }
    if (format == "TIFF") {
        return "image/tiff";
    }
    if (format == "WebP") {
        return "image/webp";
    }
    return "application/octet-stream";
}

} // namespace

bool is_safe_id(const std::string& id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

ImageLibrary::ImageLibrary(ImageLibraryOptions options) : options_(std::move(options)) {
    fs::create_directories(options_.uploads_dir);
    if (!options_.gallery_dir.empty()) {
        scan_gallery(options_.gallery_dir / "style", "g_", "gallery");
        scan_gallery(options_.gallery_dir / "content", "s_", "sample");
    }
    scan_uploads();
}

void ImageLibrary::scan_gallery(const fs::path& folder, const std::string& prefix, const std::string& source) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        return;
    }
    const auto& known = known_image_extensions();
    for (const auto& item : fs::directory_iterator(folder, ec)) {
        std::string ext = item.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
        if (!item.is_regular_file() || std::find(known.begin(), known.end(), ext) == known.end()) {
            continue;
        }
        ImageEntry entry;
        entry.id = prefix + item.path().stem().string();
        if (!is_safe_id(entry.id)) {
            continue;
        }
        try {
            const std::string bytes = read_bytes(item.path());
            const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
            const detail::ImageProbe probe = detail::probe_image(data, bytes.size());
            entry.format = detail::format_name(probe.format);
            entry.width = static_cast<int>(probe.width);
            entry.height = static_cast<int>(probe.height);
            if (entry.width == 0 || entry.height == 0) {
                const Image image = load_image(item.path());
                entry.width = image.width;
                entry.height = image.height;
            }
        } catch (const Error&) {
            continue; // a damaged gallery file is simply not offered
        }
        entry.name = item.path().stem().string();
        entry.source = source;
        entry.file = item.path();
        entries_[entry.id] = entry;
    }
}

std::optional<ImageEntry> ImageLibrary::find(const std::string& id) const {
    if (!is_safe_id(id)) {
        return std::nullopt;
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return it->second;
}

const ImageEntry& ImageLibrary::require(const std::string& id) const {
    const auto it = entries_.find(id);
    if (!is_safe_id(id) || it == entries_.end()) {
        throw StudioError(404, "not_found", "no image with id '" + id + "'");
    }
    return it->second;
}

std::vector<ImageEntry> ImageLibrary::gallery() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return select(entries_, "gallery");
}

std::vector<ImageEntry> ImageLibrary::samples() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return select(entries_, "sample");
}

std::vector<ImageEntry> ImageLibrary::uploads() const {
    std::vector<ImageEntry> out;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        out = select(entries_, "upload");
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const ImageEntry& a, const ImageEntry& b) { return a.created_ms > b.created_ms; });
    return out;
}

Image ImageLibrary::load(const std::string& id) const {
    fs::path file;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        file = require(id).file;
    }
    ImageLoadLimits limits;
    limits.max_pixels = std::max<std::int64_t>(options_.max_pixels, 1);
    touch(id);
    return load_image(file, limits);
}

std::vector<std::uint8_t> ImageLibrary::thumbnail(const std::string& id, int long_side) const {
    const std::string key = id + "@" + std::to_string(long_side);
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        require(id);
        const auto it = thumbnails_.find(key);
        if (it != thumbnails_.end()) {
            return it->second;
        }
    }
    const Image image = load(id);
    const int current = std::max(image.width, image.height);
    std::vector<std::uint8_t> jpeg = encode_jpeg(current > long_side ? resize_long_side(image, long_side) : image, 85);
    const std::lock_guard<std::mutex> lock(mutex_);
    if (thumbnails_.size() >= kThumbnailCacheEntries || thumbnail_bytes_ + jpeg.size() > kThumbnailCacheBytes) {
        thumbnails_.clear();
        thumbnail_bytes_ = 0;
    }
    if (entries_.count(id) > 0 && thumbnails_.emplace(key, jpeg).second) {
        thumbnail_bytes_ += jpeg.size();
    }
    return jpeg;
}

std::string ImageLibrary::file_bytes(const std::string& id, std::string* content_type) const {
    fs::path file;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        const ImageEntry& entry = require(id);
        file = entry.file;
        if (content_type != nullptr) {
            *content_type = content_type_for(entry.format);
        }
    }
    touch(id);
    return read_bytes(file);
}

} // namespace impasto::studio
