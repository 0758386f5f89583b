#pragma once
// The images a job can use: the person's uploads (kept in the data folder, named by content
// hash) and a read-only gallery (paintings and sample photos from ../shared/images). Requests
// name images by id only; the files behind the ids are chosen here, never from a request.
#include "impasto/image.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace impasto::studio {

struct ImageEntry {
    std::string id;     // "u_<24 hex>", "g_<stem>", "s_<stem>"
    std::string name;   // the uploaded file's name or the gallery file's stem, for display only
    std::string source; // "upload", "gallery", "sample"
    std::string format; // "PNG", "JPEG", ...
    int width = 0;
    int height = 0;
    std::int64_t created_ms = 0;
    std::filesystem::path file;
};

struct ImageLibraryOptions {
    std::filesystem::path uploads_dir; // created when absent
    std::filesystem::path gallery_dir; // style/ and content/ inside; "" or absent = no gallery
    std::int64_t max_upload_bytes = 0;
    std::int64_t max_pixels = 0;
};

class ImageLibrary {
  public:
    // Scans the gallery and the uploads kept from earlier runs.
    explicit ImageLibrary(ImageLibraryOptions options);

    // Checks the bytes by content (format signature, completeness, header size, a full decode)
    // and stores them. Throws StudioError: 413 too_large, 400 bad_image, 400 too_many_pixels.
    ImageEntry add_upload(const std::string& original_name, const std::string& bytes);

    std::optional<ImageEntry> find(const std::string& id) const;
    std::vector<ImageEntry> gallery() const; // paintings
    std::vector<ImageEntry> samples() const; // photos
    std::vector<ImageEntry> uploads() const; // newest first

    // Throws StudioError 404 for an unknown id, InputError when the file no longer decodes.
    Image load(const std::string& id) const;
    // JPEG of the image scaled to a long side of `long_side` (never enlarged); cached.
    std::vector<std::uint8_t> thumbnail(const std::string& id, int long_side) const;
    // The stored file's bytes and content type.
    std::string file_bytes(const std::string& id, std::string* content_type) const;

  private:
    void scan_gallery(const std::filesystem::path& folder, const std::string& prefix, const std::string& source);
    void scan_uploads();
    const ImageEntry& require(const std::string& id) const;

    ImageLibraryOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, ImageEntry> entries_;
    mutable std::map<std::string, std::vector<std::uint8_t>> thumbnails_;
};

// Ids are letters, digits, '_' and '-', 1..64 long; anything else is never looked up.
bool is_safe_id(const std::string& id);

} // namespace impasto::studio
