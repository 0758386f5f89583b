// The uploads half of ImageLibrary: storing an upload after checking it by content, its record,
// removing it, and what retention needs to know (sizes and last use).
#include "impasto/atomic_file.h"
#include "io/image_checks.h"
#include "io/json_numbers.h"
#include "io/sha256.h"
#include "server/image_files.h"
#include "server/image_library.h"
#include "server/storage_error.h"
#include "server/stored_json.h"
#include "server/studio_error.h"

#include <chrono>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto::studio {

namespace fs = std::filesystem;
using image_files::read_bytes;
using image_files::select;
using nlohmann::json;

namespace {

// An upload record is a few hundred bytes.
constexpr std::size_t kRecordLimit = std::size_t{64} * 1024U;
// What an upload's record and file-system overhead add to its image, for the quota.
constexpr std::int64_t kRecordAllowance = 1024;

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

std::int64_t file_size_or_zero(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    return ec ? 0 : static_cast<std::int64_t>(size);
}

std::int64_t upload_bytes(const fs::path& image, const fs::path& record) {
    return file_size_or_zero(image) + file_size_or_zero(record);
}

// ENOSPC reaches us as an OutputError quoting strerror: the disk is full, not the upload bad.
void throw_if_disk_full(const OutputError& error) {
    const std::string message = error.what();
    if (message.find("No space left") != std::string::npos || message.find("Disk quota") != std::string::npos) {
        throw StorageError(StorageError::Kind::Full, message);
    }
}

} // namespace

void ImageLibrary::scan_uploads() {
    std::error_code ec;
    std::vector<fs::path> images;
    for (const auto& item : fs::directory_iterator(options_.uploads_dir, ec)) {
        const fs::path& path = item.path();
        if (path.filename().string().find(".tmp-") != std::string::npos) {
            fs::remove(path, ec); // left by a crash between write and rename
            continue;
        }
        if (path.extension() != ".json") {
            images.push_back(path);
            continue;
        }
        try {
            const json meta = parse_stored_json(read_bytes(path, kRecordLimit));
            if (!meta.is_object()) {
                continue; // damaged, or edited into something that is not a record
            }
            ImageEntry entry;
            entry.id = meta.at("id").get<std::string>();
            entry.name = meta.at("name").get<std::string>();
            entry.format = meta.at("format").get<std::string>();
            // Range-checked before the casts: a record edited behind the server's back is skipped.
            const auto width = io::whole_number(meta.at("width"), 1, 1 << 30U);
            const auto height = io::whole_number(meta.at("height"), 1, 1 << 30U);
            const auto created_ms = io::whole_number(meta.at("created_ms"), 0, std::int64_t{1} << 53U);
            if (!width || !height || !created_ms) {
                continue;
            }
            entry.width = static_cast<int>(*width);
            entry.height = static_cast<int>(*height);
            entry.created_ms = *created_ms;
            entry.file = options_.uploads_dir / meta.at("file").get<std::string>();
            entry.source = "upload";
            if (is_safe_id(entry.id) && fs::is_regular_file(entry.file, ec) &&
                entry.file.parent_path() == options_.uploads_dir && entries_.count(entry.id) == 0) {
                entry.stored_bytes = upload_bytes(entry.file, path);
                totals_.count += 1;
                totals_.bytes += entry.stored_bytes;
                entries_[entry.id] = entry;
            }
        } catch (const std::exception&) {
            continue; // metadata of an upload interrupted before it completed
        }
    }
    // An image without a record was left by a crash before its record was written, or after a
    // deletion removed the record: nothing names it, so it would only take space.
    for (const fs::path& image : images) {
        const auto known = entries_.find(image.stem().string());
        if (known == entries_.end() || known->second.file != image) {
            fs::remove(image, ec);
        }
    }
}

ImageEntry ImageLibrary::add_upload(const std::string& original_name, const std::string& bytes, UploadQuota* quota) {
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

    const std::int64_t admitted = static_cast<std::int64_t>(bytes.size()) + kRecordAllowance;
    if (quota != nullptr) {
        quota->admit_upload(admitted);
    }
    try {
        store_upload(entry, bytes);
        entry.stored_bytes = upload_bytes(entry.file, options_.uploads_dir / (id + ".json"));
        const std::lock_guard<std::mutex> lock(mutex_);
        if (entries_.count(id) == 0) { // the same bytes may have been stored meanwhile
            totals_.count += 1;
            totals_.bytes += entry.stored_bytes;
        }
        entries_[id] = entry;
    } catch (...) {
        if (quota != nullptr) {
            quota->cancel_upload(admitted);
        }
        throw;
    }
    if (quota != nullptr) {
        quota->finish_upload(admitted);
    }
    return entry;
}

void ImageLibrary::store_upload(ImageEntry& entry, const std::string& bytes) const {
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
        if (const auto* output = dynamic_cast<const OutputError*>(&e)) {
            throw_if_disk_full(*output);
            throw;
        }
        throw StudioError(400, "bad_image", std::string("upload is not a usable image: ") + e.what());
    }
    std::error_code ec;
    fs::rename(staging, entry.file, ec);
    if (ec) {
        fs::remove(staging, ec);
        throw OutputError("storing upload " + entry.id + ": " + ec.message());
    }
    const json meta{{"id", entry.id},
                    {"name", entry.name},
                    {"format", entry.format},
                    {"width", entry.width},
                    {"height", entry.height},
                    {"created_ms", entry.created_ms},
                    {"file", entry.file.filename().string()}};
    // The metadata is written last: an upload without it is ignored (and removed) at the next start.
    try {
        write_file_atomic(options_.uploads_dir / (entry.id + ".json"), meta.dump() + "\n");
    } catch (const OutputError& e) {
        fs::remove(entry.file, ec);
        throw_if_disk_full(e);
        throw;
    }
}

std::int64_t ImageLibrary::remove_upload(const std::string& id) {
    ImageEntry entry;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto it = is_safe_id(id) ? entries_.find(id) : entries_.end();
        if (it == entries_.end()) {
            return 0;
        }
        if (it->second.source != "upload") {
            throw StudioError(400, "bad_request", "image '" + id + "' is in the gallery, which is read-only");
        }
        entry = it->second;
        totals_.count -= 1;
        totals_.bytes -= entry.stored_bytes;
        entries_.erase(it);
        for (auto thumb = thumbnails_.lower_bound(id + "@");
             thumb != thumbnails_.end() && thumb->first.rfind(id + "@", 0) == 0;) {
            thumbnail_bytes_ -= thumb->second.size();
            thumb = thumbnails_.erase(thumb);
        }
    }
    std::error_code ec;
    fs::remove(options_.uploads_dir / (id + ".json"), ec);
    fs::remove(entry.file, ec);
    return std::max<std::int64_t>(entry.stored_bytes, 1);
}

UploadTotals ImageLibrary::upload_totals() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return totals_;
}

void ImageLibrary::touch(const std::string& id) const {
    fs::path file;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto it = entries_.find(id);
        if (it == entries_.end() || it->second.source != "upload") {
            return;
        }
        file = it->second.file;
    }
    std::error_code ec;
    fs::last_write_time(file, fs::file_time_type::clock::now(), ec);
}

std::vector<StoredUpload> ImageLibrary::stored_uploads() const {
    std::vector<ImageEntry> entries;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        entries = select(entries_, "upload");
    }
    std::vector<StoredUpload> out;
    out.reserve(entries.size());
    for (const ImageEntry& entry : entries) {
        std::error_code ec;
        StoredUpload stored;
        stored.id = entry.id;
        stored.last_used = fs::last_write_time(entry.file, ec);
        if (ec) {
            continue; // deleted meanwhile
        }
        stored.bytes = entry.stored_bytes;
        out.push_back(std::move(stored));
    }
    return out;
}

} // namespace impasto::studio
