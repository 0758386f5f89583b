#pragma once
// The small pictures the method tabs show: one photo stylised by each model, style and arbitrary
// transform, made by our CLI (tools/make_model_examples.sh) into MODELS/examples beside an
// index.json. They are read once at start and kept in memory (a few KB each), so the route
// serves bytes from this table by file name and no request path ever reaches the filesystem.
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace impasto::studio {

// Bounds on a folder someone else wrote: the index, the pictures and their number.
inline constexpr std::size_t kMaxExampleIndexBytes = 256U * 1024U;
inline constexpr std::size_t kMaxExampleBytes = 512U * 1024U;
inline constexpr std::size_t kMaxExamples = 512;

struct ModelExample {
    std::string method;    // "fast", "arbitrary" or "optimisation"
    std::string model;     // fast: the model's name (its file stem), as /api/defaults lists it
    std::string transform; // arbitrary: "adain" or "wct"
    std::string style;     // the style's name
    std::string file;      // "fast-starry_night-starry_night.jpg": [A-Za-z0-9][A-Za-z0-9_-]*\.jpg
    std::string version;   // the first 16 hex digits of the bytes' sha256: the URL changes with them
    int width = 0;
    int height = 0;
    std::string jpeg; // the bytes, checked to be one complete JPEG

    std::string url() const; // "/api/examples/FILE?v=VERSION"
};

struct ModelExamples {
    std::vector<ModelExample> items; // in the index's order
    // Why the index or an entry was left out, one line each, for the server's log (they name paths).
    std::vector<std::string> skipped;

    const ModelExample* find(const std::string& file) const; // nullptr when there is none
};

// The examples of `dir`/index.json. Never throws: no folder or no index gives none, and a
// malformed index, an entry that is not well formed, a file that is missing, a link, over
// kMaxExampleBytes or not a complete JPEG are left out and named in `skipped`.
ModelExamples load_model_examples(const std::filesystem::path& dir);

// One example in GET /api/defaults: {"style", "url", "width", "height", "transform"?}.
nlohmann::json example_json(const ModelExample& example);

// The route's pattern of an example's file name: what the loader accepts and nothing that can name
// a folder.
inline constexpr const char* kExampleFilePattern = "([A-Za-z0-9][A-Za-z0-9_-]{0,119}\\.jpg)";

} // namespace impasto::studio
