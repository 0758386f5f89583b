// Thumbnails for the report: load_image, resize_long_side, encode_jpeg, base64.
#include "report/thumbnails.h"

#include "impasto/image.h"
#include "report/report_text.h"

#include <algorithm>
#include <exception>

namespace impasto::report {

const std::string& Thumbnails::data_uri(const std::filesystem::path& file) {
    const std::string key = file.string();
    const auto found = cache_.find(key);
    if (found != cache_.end()) {
        return found->second;
    }
    std::string uri;
    if (!file.empty()) {
        try {
            ImageLoadLimits limits;
            limits.min_side = 1;
            Image image = load_image(file, limits);
            if (std::max(image.width, image.height) > long_side_) {
                image = resize_long_side(image, long_side_);
            }
            const std::vector<std::uint8_t> jpeg = encode_jpeg(image, quality_);
            uri = "data:image/jpeg;base64," + base64_encode(jpeg.data(), jpeg.size());
        } catch (const std::exception&) {
            // Missing, damaged or unreadable: the caller draws a placeholder instead.
            uri.clear();
        }
    }
    return cache_.emplace(key, std::move(uri)).first->second;
}

std::string Thumbnails::tag(const std::filesystem::path& file, const std::string& alt) {
    const std::string& uri = data_uri(file);
    if (uri.empty()) {
        return placeholder(file.empty() ? "no image" : "image missing", file.string());
    }
    return "<img src=\"" + uri + "\" alt=\"" + html_escape(alt) + "\" title=\"" + html_escape(file.string()) + "\">";
}

std::string Thumbnails::placeholder(const std::string& reason, const std::string& tooltip) {
    std::string html = "<div class=\"missing\"";
    if (!tooltip.empty()) {
        html += " title=\"" + html_escape(tooltip) + "\"";
    }
    html += "><span>" + html_escape(reason) + "</span>";
    if (!tooltip.empty()) {
        html += "<small>" + html_escape(std::filesystem::path(tooltip).filename().string()) + "</small>";
    }
    return html + "</div>";
}

} // namespace impasto::report
