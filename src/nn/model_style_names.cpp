#include "nn/model_style_names.h"

#include "impasto/error.h"
#include "io/bounded_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto::nn {

std::vector<std::string> model_style_names(const StyleModelFile& file, int styles, const std::string& context) {
    std::vector<std::string> names;
    try {
        const auto json = parse_bounded_json(file.config, JsonLimits{}, context);
        if (json.contains("style_names")) {
            names = json.at("style_names").get<std::vector<std::string>>();
        }
    } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("{}: style_names: {}", context, e.what()));
    }
    const auto& images = file.card.style_images;
    for (auto i = static_cast<int>(names.size()); i < styles; ++i) {
        names.push_back(i < static_cast<int>(images.size()) && !images[i].name.empty() ? images[i].name
                                                                                       : fmt::format("style{}", i));
    }
    if (static_cast<int>(names.size()) != styles) {
        throw InputError(fmt::format("{}: {} style_names for {} styles", context, names.size(), styles));
    }
    return names;
}

} // namespace impasto::nn
