// The inputs of `models measure` (see measure_inputs.h).
#include "train/measure_inputs.h"

#include "impasto/error.h"
#include "impasto/image.h"
#include "io/sha256.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace impasto::measure {
namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& path) {
    std::string extension = path.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto& known = known_image_extensions();
    return std::find(known.begin(), known.end(), extension) != known.end();
}

// The names of a path, without the root and without empty or "." names ("a/b/" -> a, b).
std::vector<std::string> names_of(const fs::path& path) {
    std::vector<std::string> names;
    for (const fs::path& part : path.relative_path()) {
        const std::string name = part.string();
        if (!name.empty() && name != ".") {
            names.push_back(name);
        }
    }
    return names;
}

// The path with symbolic links and ".." resolved where it exists; as written otherwise.
fs::path resolved(const fs::path& path) {
    std::error_code ec;
    fs::path out = fs::weakly_canonical(path, ec);
    return ec ? path.lexically_normal() : out;
}

// The last two names of a folder: which data set and which part of it ("images/content").
std::vector<std::string> tail_of(const fs::path& folder) {
    std::vector<std::string> names = names_of(folder.lexically_normal());
    if (names.size() > 2) {
        names.erase(names.begin(), names.end() - 2);
    }
    return names;
}

// The training options as JSON: made by the trainer, or from a file's card (already bounded in size
// and nesting when the card was read). Null when it is not a JSON object.
nlohmann::json training_options(const ModelCard& card) {
    nlohmann::json json = nlohmann::json::parse(card.training_options, nullptr, false);
    return json.is_object() ? json : nlohmann::json();
}

std::vector<std::string> strings_of(const nlohmann::json& object, const char* key) {
    std::vector<std::string> out;
    if (object.is_object() && object.contains(key) && object[key].is_array()) {
        for (const auto& item : object[key]) {
            if (item.is_string()) {
                out.push_back(item.get<std::string>());
            }
        }
    }
    return out;
}

} // namespace

std::vector<fs::path> expand_images(const std::vector<fs::path>& paths, const std::string& what) {
    std::vector<fs::path> files;
    for (const fs::path& path : paths) {
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            std::vector<fs::path> found;
            for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
                if (it->is_regular_file(ec) && is_image_file(it->path())) {
                    found.push_back(it->path());
                }
            }
            if (found.empty()) {
                throw InputError(fmt::format("{}: folder '{}' holds no image ({})", what, path.string(),
                                             fmt::join(known_image_extensions(), ", ")));
            }
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::is_regular_file(path, ec)) {
            files.push_back(path);
        } else {
            throw InputError(
                fmt::format("{}: '{}' is neither an image file nor a folder of images", what, path.string()));
        }
    }
    return files;
}

std::vector<fs::path> training_folders(const ModelCard& card) {
    std::vector<fs::path> folders;
    // "style_data": the paintings of a decoder trained with the AdaIN objective.
    for (const char* key : {"data", "style_data"}) {
        for (const std::string& data : strings_of(training_options(card), key)) {
            folders.emplace_back(data);
        }
    }
    if (!folders.empty() || card.training_data.empty()) {
        return folders;
    }
    // "datasets/bsds500, images/content (513 images)": the trainers' description, for cards without options.
    std::string names = card.training_data.substr(0, card.training_data.rfind(" ("));
    for (std::size_t start = 0; start <= names.size();) {
        const std::size_t comma = std::min(names.find(", ", start), names.size());
        if (comma > start) {
            folders.emplace_back(names.substr(start, comma - start));
        }
        start = comma + 2;
    }
    return folders;
}

bool in_training_data(const fs::path& image, const std::vector<fs::path>& folders) {
    const fs::path file = resolved(image);
    const std::vector<std::string> file_names = names_of(file);
    for (const fs::path& folder : folders) {
        const std::vector<std::string> folder_names = names_of(resolved(folder));
        if (folder.is_absolute() && !folder_names.empty() && folder_names.size() < file_names.size() &&
            std::equal(folder_names.begin(), folder_names.end(), file_names.begin())) {
            return true;
        }
        // The same two names anywhere among the image's folders (recursive data folders count).
        const std::vector<std::string> tail = tail_of(folder);
        if (tail.empty() || file_names.size() < tail.size() + 1) {
            continue;
        }
        for (std::size_t end = tail.size(); end < file_names.size(); ++end) {
            if (std::equal(tail.begin(), tail.end(),
                           file_names.begin() + static_cast<std::ptrdiff_t>(end - tail.size()))) {
                return true;
            }
        }
    }
    return false;
}

std::string folder_name(const fs::path& image) {
    return resolved(fs::absolute(image)).parent_path().filename().string();
}

std::vector<fs::path> reconstruction_images(const MeasureOptions& options) {
    if (!options.images.empty()) {
        return expand_images(options.images, "images to reconstruct");
    }
    if (options.shared_dir.empty()) {
        throw ConfigError("no images to measure a decoder on: give them (--images), or the folder of the reference "
                          "images (IMPASTO_SHARED_DIR)");
    }
    const fs::path images = options.shared_dir / "images";
    return expand_images({images / "style", images / "content"}, "the default images to reconstruct");
}

std::vector<fs::path> style_photos(const MeasureOptions& options, const ModelCard& card) {
    if (!options.photos.empty()) {
        return expand_images(options.photos, "photos to stylise");
    }
    if (options.shared_dir.empty()) {
        throw ConfigError("no photos to measure a style model on: give them (--content), or the folder of the "
                          "reference images (IMPASTO_SHARED_DIR)");
    }
    std::vector<fs::path> all = expand_images({options.shared_dir / "images" / "content"}, "the default photos");
    // The preferred photos first, in their order, then the rest by name.
    std::stable_sort(all.begin(), all.end(), [](const fs::path& a, const fs::path& b) {
        const auto rank = [](const fs::path& path) {
            const auto found =
                std::find(kDefaultMeasurePhotos.begin(), kDefaultMeasurePhotos.end(), path.filename().string());
            return found - kDefaultMeasurePhotos.begin();
        };
        return rank(a) < rank(b);
    });
    const std::vector<fs::path> folders = training_folders(card);
    std::vector<fs::path> chosen;
    for (const fs::path& photo : all) {
        if (chosen.size() < kDefaultMeasurePhotoCount && !in_training_data(photo, folders)) {
            chosen.push_back(photo);
        }
    }
    // Too few unseen photos (a model trained on these very photos): the preferred seen ones fill
    // in, and the card says they were seen.
    for (const fs::path& photo : all) {
        if (chosen.size() < kDefaultMeasurePhotoCount &&
            std::find(chosen.begin(), chosen.end(), photo) == chosen.end()) {
            chosen.push_back(photo);
        }
    }
    return chosen;
}

fs::path find_style_image(const StyleImageRecord& style, const ModelCard& card, const MeasureOptions& options) {
    std::vector<fs::path> candidates;
    for (const std::string& path : strings_of(training_options(card), "styles")) {
        if (fs::path(path).stem() == style.name) {
            candidates.emplace_back(path);
        }
    }
    std::vector<fs::path> dirs = options.style_dirs;
    if (dirs.empty() && !options.shared_dir.empty()) {
        dirs.push_back(options.shared_dir / "images" / "style");
    }
    for (const fs::path& dir : dirs) {
        for (const std::string& extension : known_image_extensions()) {
            candidates.push_back(dir / (style.name + extension));
        }
    }
    std::vector<std::string> other_hash;
    for (const fs::path& candidate : candidates) {
        std::error_code ec;
        if (!fs::is_regular_file(candidate, ec)) {
            continue;
        }
        if (style.sha256.empty()) {
            return candidate; // a card without hashes: the name is all there is to go by
        }
        try {
            if (io::sha256_file_hex(candidate) == style.sha256) {
                return candidate;
            }
            other_hash.push_back(candidate.string());
        } catch (const Error&) {
            other_hash.push_back(candidate.string() + " (unreadable)");
        }
    }
    std::vector<std::string> where;
    for (const fs::path& dir : dirs) {
        where.push_back(dir.string());
    }
    const std::string hash = style.sha256.empty() ? std::string() : " (sha256 " + style.sha256.substr(0, 12) + "...)";
    throw InputError(fmt::format(
        "the image of style '{}'{} was not found: {}; give the folder that holds it (--styles DIR)", style.name, hash,
        other_hash.empty()
            ? fmt::format("no {}.* in the training options' styles or in {}", style.name,
                          where.empty() ? std::string("any style folder") : fmt::format("{}", fmt::join(where, ", ")))
            : fmt::format("{} has another sha256", fmt::join(other_hash, ", "))));
}

std::string describe_images(const std::vector<fs::path>& files, const std::vector<bool>& seen, bool photos,
                            bool training_known) {
    std::vector<std::string> groups; // folder names, in order of first appearance
    std::map<std::string, int> counts;
    std::set<fs::path> folders;
    std::set<fs::path> grandparents;
    for (const fs::path& file : files) {
        const fs::path folder = resolved(fs::absolute(file)).parent_path();
        const std::string group = folder.filename().string();
        if (counts[group]++ == 0) {
            groups.push_back(group);
        }
        folders.insert(folder);
        grandparents.insert(folder.parent_path());
    }
    std::string text;
    if (photos) {
        std::vector<std::string> names;
        for (const fs::path& file : files) {
            names.push_back(file.filename().string());
        }
        text = fmt::format("{} photo{} ({}{})", files.size(), files.size() == 1 ? "" : "s", fmt::join(names, ", "),
                           folders.size() == 1 ? "; " + folders.begin()->string() : std::string());
    } else {
        std::vector<std::string> parts;
        for (const std::string& group : groups) {
            parts.push_back(fmt::format("{} {}", counts[group], group));
        }
        text = fmt::format("{} image{}{}", fmt::join(parts, " + "), files.size() == 1 ? "" : "s",
                           grandparents.size() == 1 ? " of " + grandparents.begin()->string() : std::string());
    }
    const auto seen_count = static_cast<std::size_t>(std::count(seen.begin(), seen.end(), true));
    if (!training_known) {
        return text + ", the model's training data not recorded";
    }
    if (seen_count == 0) {
        return text + ", none in the model's training data";
    }
    return text + (seen_count == files.size()
                       ? fmt::format(", all {} in the model's training data", seen_count)
                       : fmt::format(", {} of {} in the model's training data", seen_count, files.size()));
}

} // namespace impasto::measure
