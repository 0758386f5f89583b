#pragma once
// The studio's front end (web/dist, built from TypeScript by npm), compiled into the binary so
// that `impasto serve` needs no files beside it and serves nothing from the filesystem.
#include <cstddef>
#include <string_view>
#include <vector>

namespace impasto::studio {

struct WebAsset {
    std::string_view path;         // "/index.html", "/assets/app.js"
    std::string_view content_type; // "text/html; charset=utf-8"
    const unsigned char* data = nullptr;
    std::size_t size = 0;
};

// nullptr when there is no such asset. "/" is not mapped here: the routes serve "/index.html" for it.
const WebAsset* find_web_asset(std::string_view path);
const std::vector<WebAsset>& web_assets();

} // namespace impasto::studio
