#pragma once
// Images inlined into the report: read once, shrunk, JPEG-encoded, base64 `data:` URIs.
// A file that cannot be read becomes a labelled placeholder, never an error.
#include <filesystem>
#include <map>
#include <string>

namespace impasto::report {

class Thumbnails {
  public:
    // `long_side`: thumbnails are shrunk (never enlarged) to this; `quality`: JPEG 1..100.
    explicit Thumbnails(int long_side = 200, int quality = 80) : long_side_(long_side), quality_(quality) {}

    // "data:image/jpeg;base64,..." for the file, or "" when it cannot be read. Cached by path.
    const std::string& data_uri(const std::filesystem::path& file);

    // An <img> with the image inlined, `alt` and a tooltip naming the file; or, when the file
    // cannot be read, a placeholder <div class="missing"> saying so.
    std::string tag(const std::filesystem::path& file, const std::string& alt);

    // A placeholder box with a short reason ("not run", "missing") and a tooltip.
    static std::string placeholder(const std::string& reason, const std::string& tooltip);

    int long_side() const { return long_side_; }

  private:
    int long_side_;
    int quality_;
    std::map<std::string, std::string> cache_;
};

} // namespace impasto::report
