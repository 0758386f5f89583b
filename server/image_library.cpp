#include "server/image_library.h"

#include "impasto/atomic_file.h"
#include "io/image_checks.h"
#include "io/sha256.h"
#include "server/studio_error.h"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace impasto::studio {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kThumbnailCacheEntries = 512;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const char* extension_for(detail::ImageFormat format) {
    switch (format) {
    case detail::ImageFormat::Jpeg:
        return ".jpg";
    case detail::ImageFormat::Png:
        return ".png";
    case detail::ImageFormat::Bmp:
        return ".bmp";
    case detail::ImageFormat::Tiff:
        return ".tif";
    case detail::ImageFormat::Webp:
        return ".webp";
    case detail::ImageFormat::Unknown:
        break;
    }
    return "";
}

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

std::string read_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw InputError("cannot read " + file.string());
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Display names come from the person: keep them printable and short.
std::string clean_name(const std::string& name) {
    std::string out;
    for (const char c : fs::path(name).filename().string()) {
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != '/' && c != '\\') {
            out += c;
        }
    }
    if (out.size() > 120) {
        out.resize(120);
    }
    return out.empty() ? "upload" : out;
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

void ImageLibrary::scan_uploads() {
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(options_.uploads_dir, ec)) {
        const fs::path& path = item.path();
        if (path.filename().string().find(".tmp-") != std::string::npos) {
            fs::remove(path, ec); // left by a crash between write and rename
            continue;
        }
        if (path.extension() != ".json") {
            continue;
        }
        try {
            const json meta = json::parse(read_bytes(path));
            ImageEntry entry;
            entry.id = meta.at("id").get<std::string>();
            entry.name = meta.at("name").get<std::string>();
            entry.format = meta.at("format").get<std::string>();
            entry.width = meta.at("width").get<int>();
            entry.height = meta.at("height").get<int>();
            entry.created_ms = meta.at("created_ms").get<std::int64_t>();
            entry.file = options_.uploads_dir / meta.at("file").get<std::string>();
            entry.source = "upload";
            if (is_safe_id(entry.id) && fs::is_regular_file(entry.file, ec) &&
                entry.file.parent_path() == options_.uploads_dir) {
                entries_[entry.id] = entry;
            }
        } catch (const std::exception&) {
            continue; // metadata of an upload interrupted before it completed
        }
    }
}

ImageEntry ImageLibrary::add_upload(const std::string& original_name, const std::string& bytes) {
    if (static_cast<std::int64_t>(bytes.size()) > options_.max_upload_bytes) {
        throw StudioError(
            413, "too_large",
            fmt::format("upload is {} bytes; the limit is {} bytes", bytes.size(), options_.max_upload_bytes));
    }
    if (bytes.empty()) {
        throw StudioError(400, "bad_image", "upload is empty (0 bytes)");
    }
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    detail::ImageProbe probe;
    try {
        probe = detail::probe_image(data, bytes.size());
    } catch (const InputError& e) {
        throw StudioError(400, "bad_image", std::string("upload is not a usable image: ") + e.what());
    }
    if (probe.width * probe.height > options_.max_pixels) {
        throw StudioError(400, "too_many_pixels",
                          fmt::format("upload is {}x{} ({} pixels); the decode limit is {} pixels", probe.width,
                                      probe.height, probe.width * probe.height, options_.max_pixels));
    }
    const std::string id = "u_" + io::sha256_hex(bytes.data(), bytes.size()).substr(0, 24);
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto it = entries_.find(id);
        if (it != entries_.end()) {
            return it->second;
        }
    }
    ImageEntry entry;
    entry.id = id;
    entry.name = clean_name(original_name);
    entry.source = "upload";
    entry.format = detail::format_name(probe.format);
    entry.created_ms = now_ms();
    entry.file = options_.uploads_dir / (id + extension_for(probe.format));

    // Decode it fully before keeping it: a header can look right over damaged data.
    const fs::path staging = temporary_sibling(entry.file);
    try {
        write_file_atomic(staging, bytes);
        ImageLoadLimits limits;
        limits.max_pixels = options_.max_pixels;
        const Image image = load_image(staging, limits);
        entry.width = image.width;
        entry.height = image.height;
    } catch (const Error& e) {
        std::error_code ec;
        fs::remove(staging, ec);
        if (dynamic_cast<const OutputError*>(&e) != nullptr) {
            throw;
        }
        throw StudioError(400, "bad_image", std::string("upload is not a usable image: ") + e.what());
    }
    std::error_code ec;
    fs::rename(staging, entry.file, ec);
    if (ec) {
        fs::remove(staging, ec);
        throw OutputError("storing upload " + id + ": " + ec.message());
    }
    const json meta{{"id", entry.id},
                    {"name", entry.name},
                    {"format", entry.format},
                    {"width", entry.width},
                    {"height", entry.height},
                    {"created_ms", entry.created_ms},
                    {"file", entry.file.filename().string()}};
    // The metadata is written last: an upload without it is ignored at the next start.
    write_file_atomic(options_.uploads_dir / (id + ".json"), meta.dump() + "\n");
    const std::lock_guard<std::mutex> lock(mutex_);
    entries_[id] = entry;
    return entry;
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

namespace {
std::vector<ImageEntry> select(const std::map<std::string, ImageEntry>& entries, const std::string& source) {
    std::vector<ImageEntry> out;
    for (const auto& [id, entry] : entries) {
        if (entry.source == source) {
            out.push_back(entry);
        }
    }
    return out;
}
} // namespace

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
    if (thumbnails_.size() >= kThumbnailCacheEntries) {
        thumbnails_.clear();
    }
    thumbnails_[key] = jpeg;
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
    return read_bytes(file);
}

} // namespace impasto::studio
