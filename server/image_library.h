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
    std::int64_t stored_bytes = 0; // uploads: the image and its record on disk
};

// Where an upload's bytes are admitted before they are stored (the storage quota): admit throws
// to refuse them, and each admitted upload then ends in exactly one of finish (stored and now
// counted by the library) or cancel (not stored).
class UploadQuota {
  public:
    virtual ~UploadQuota() = default;
    virtual void admit_upload(std::int64_t bytes) = 0;
    virtual void finish_upload(std::int64_t bytes) = 0;
    virtual void cancel_upload(std::int64_t bytes) = 0;
};

struct UploadTotals {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
};

struct StoredUpload {
    std::string id;
    std::int64_t bytes = 0;                    // the image and its record
    std::filesystem::file_time_type last_used; // the image's modification time, renewed on each use
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
    // and stores them. Throws StudioError: 413 too_large, 400 bad_image, 400 too_many_pixels, or
    // what `quota` throws. The same bytes again give the stored entry, without asking the quota.
    ImageEntry add_upload(const std::string& original_name, const std::string& bytes, UploadQuota* quota = nullptr);
    // Deletes an upload's image and record (the record first: without it the image is ignored at
    // the next start). Returns the bytes freed, 0 when there is no such upload. Throws StudioError
    // 400 for a gallery or sample image: those are read-only.
    std::int64_t remove_upload(const std::string& id);
    // Marks an upload as just used (retention keeps the recently used).
    void touch(const std::string& id) const;
    std::vector<StoredUpload> stored_uploads() const;
    // Exact at every moment: kept with the entries, under the same lock.
    UploadTotals upload_totals() const;

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
    // Writes the image (decoded once as a check) and then its record; removes both on failure.
    void store_upload(ImageEntry& entry, const std::string& bytes) const;
    const ImageEntry& require(const std::string& id) const;

    ImageLibraryOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, ImageEntry> entries_;
    mutable std::map<std::string, std::vector<std::uint8_t>> thumbnails_;
    mutable std::size_t thumbnail_bytes_ = 0;
    UploadTotals totals_; // of the uploads in entries_
};

// Ids are letters, digits, '_' and '-', 1..64 long; anything else is never looked up.
bool is_safe_id(const std::string& id);

} // namespace impasto::studio
