#include "server/model_examples.h"

#include "impasto/error.h"
#include "io/image_checks.h"
#include "io/regular_file.h"
#include "io/sha256.h"
#include "server/stored_json.h"

#include <algorithm>
#include <cstdint>
#include <regex>
#include <set>

namespace impasto::studio {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::regex& file_name_pattern() {
    static const std::regex pattern(kExampleFilePattern);
    return pattern;
}

// A name as the index gives it: a short non-empty string. The page shows it as text only.
std::string name_field(const json& entry, const char* key) {
    const auto it = entry.find(key);
    if (it == entry.end() || !it->is_string()) {
        return {};
    }
    std::string value = it->get<std::string>();
    return value.size() <= 128 ? value : std::string();
}

// The entry's fields, or the reason it is not well formed.
std::string read_fields(const json& entry, ModelExample& example) {
    if (!entry.is_object()) {
        return "not an object";
    }
    example.method = name_field(entry, "method");
    example.model = name_field(entry, "model");
    example.transform = name_field(entry, "transform");
    example.style = name_field(entry, "style");
    example.file = name_field(entry, "file");
    if (example.method != "fast" && example.method != "arbitrary" && example.method != "optimisation") {
        return "method is not fast, arbitrary or optimisation";
    }
    if (example.method == "fast" && example.model.empty()) {
        return "a fast example names no model";
    }
    if (example.method == "arbitrary" && example.transform != "adain" && example.transform != "wct") {
        return "an arbitrary example's transform is not adain or wct";
    }
    if (example.style.empty()) {
        return "no style";
    }
    if (!std::regex_match(example.file, file_name_pattern())) {
        return "file is not a plain NAME.jpg";
    }
    return {};
}

// Reads and checks the picture. Throws InputError with the reason.
void read_picture(const fs::path& dir, ModelExample& example) {
    const fs::path file = dir / example.file;
    // A link could lead anywhere on the machine; the examples are plain files in their folder.
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(file, ec))) {
        throw InputError("a symbolic link");
    }
    example.jpeg = io::read_regular_file(file, kMaxExampleBytes);
    const auto* data = reinterpret_cast<const std::uint8_t*>(example.jpeg.data());
    const detail::ImageProbe probe = detail::probe_image(data, example.jpeg.size());
    if (probe.format != detail::ImageFormat::Jpeg) {
        throw InputError(std::string("a ") + detail::format_name(probe.format) + " file, not a JPEG");
    }
    example.width = static_cast<int>(probe.width);
    example.height = static_cast<int>(probe.height);
    example.version = io::sha256_hex(example.jpeg).substr(0, 16);
}

} // namespace

std::string ModelExample::url() const {
    return "/api/examples/" + file + "?v=" + version;
}

const ModelExample* ModelExamples::find(const std::string& file) const {
    const auto it = std::find_if(items.begin(), items.end(), [&](const ModelExample& e) { return e.file == file; });
    return it == items.end() ? nullptr : &*it;
}

ModelExamples load_model_examples(const fs::path& dir) {
    ModelExamples out;
    const fs::path index_file = dir / "index.json";
    std::error_code ec;
    if (!fs::exists(index_file, ec)) {
        return out; // no examples made: the tabs show none
    }
    json index;
    try {
        index = parse_stored_json(io::read_regular_file(index_file, kMaxExampleIndexBytes),
                                  JsonLimits{kMaxExampleIndexBytes, 8});
    } catch (const std::exception& e) {
        out.skipped.push_back(index_file.string() + ": " + e.what());
        return out;
    }
    const auto list = index.is_object() ? index.find("examples") : index.end();
    if (!index.is_object() || list == index.end() || !list->is_array()) {
        out.skipped.push_back(index_file.string() + ": not JSON with an \"examples\" list");
        return out;
    }
    std::set<std::string> files;
    std::size_t position = 0;
    for (const json& entry : *list) {
        const std::string where = index_file.string() + ": examples[" + std::to_string(position++) + "]";
        if (out.items.size() == kMaxExamples) {
            out.skipped.push_back(where + " and after: over " + std::to_string(kMaxExamples) + " examples");
            break;
        }
        ModelExample example;
        const std::string malformed = read_fields(entry, example);
        if (!malformed.empty()) {
            out.skipped.push_back(where + ": " + malformed);
            continue;
        }
        if (!files.insert(example.file).second) {
            out.skipped.push_back(where + ": " + example.file + " is listed twice");
            continue;
        }
        try {
            read_picture(dir, example);
        } catch (const std::exception& e) {
            out.skipped.push_back(where + ": " + example.file + ": " + e.what());
            continue;
        }
        out.items.push_back(std::move(example));
    }
    return out;
}

json example_json(const ModelExample& example) {
    json item{{"style", example.style}, {"url", example.url()}, {"width", example.width}, {"height", example.height}};
    if (!example.transform.empty()) {
        item["transform"] = example.transform;
    }
    return item;
}

} // namespace impasto::studio
