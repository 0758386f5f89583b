// The model card as JSON, both ways (see model_card_json.h).
#include "io/model_card_json.h"

#include "impasto/error.h"
#include "io/bounded_json.h"
#include "io/json_numbers.h"

#include <cstdint>
#include <limits>

namespace impasto::io {
using ojson = nlohmann::ordered_json;

namespace {

// Counts are summed over stretches, so they may pass one run's cap; 2^53 keeps them exact in any reader.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 53U;
// Wall times and learning rates have no natural cap; finiteness is what a reader relies on.
constexpr double kMaxReal = std::numeric_limits<double>::max();

} // namespace

ojson card_to_json(const ModelCard& card) {
    ojson styles = ojson::array();
    for (const auto& style : card.style_images) {
        styles.push_back({{"name", style.name}, {"sha256", style.sha256}});
    }
    ojson losses = ojson::object();
    for (const auto& [name, value] : card.final_losses) {
        losses[name] = value;
    }
    ojson stretches = ojson::array();
    for (const TrainingStretch& stretch : card.stretches) {
        stretches.push_back({{"first_step", stretch.first_step},
                             {"last_step", stretch.last_step},
                             {"wall_seconds", stretch.wall_seconds},
                             {"crop", stretch.crop},
                             {"batch", stretch.batch},
                             {"learning_rate", stretch.learning_rate},
                             {"hardware", stretch.hardware},
                             {"finished_utc", stretch.finished_utc}});
    }
    // Stored as a JSON object when it is one, so the file reads naturally from Python and in `models show`.
    ojson options = card.training_options;
    if (!card.training_options.empty()) {
        try {
            options = parse_bounded_json<ojson>(card.training_options, JsonLimits{}, "training options");
        } catch (const InputError&) {
            // not JSON, or too deep or large to nest safely: kept as the string it is
        }
    }
    ojson json{{"training_data", card.training_data},
               {"data_license", card.data_license},
               {"style_images", std::move(styles)},
               {"iterations", card.iterations},
               {"images_seen", card.images_seen},
               {"wall_seconds", card.wall_seconds},
               {"hardware", card.hardware},
               {"final_losses", std::move(losses)},
               {"training_options", std::move(options)},
               {"command", card.command},
               {"created_utc", card.created_utc},
               {"impasto_version", card.impasto_version},
               {"notes", card.notes},
               {"stretches", std::move(stretches)}};
    // Absent rather than null when not measured: files without it are what older versions wrote.
    if (card.quality) {
        json["quality"] = quality_to_json(*card.quality);
    }
    return json;
}

ModelCard card_from_json(const ojson& json) {
    if (!json.is_object()) {
        throw InputError("the model card is not a JSON object");
    }
    ModelCard card;
    auto text = [&](const char* key, std::string& out) {
        if (json.contains(key)) {
            out = json.at(key).get<std::string>();
        }
    };
    text("training_data", card.training_data);
    text("data_license", card.data_license);
    text("hardware", card.hardware);
    text("command", card.command);
    text("created_utc", card.created_utc);
    text("impasto_version", card.impasto_version);
    text("notes", card.notes);
    if (json.contains("style_images")) {
        for (const auto& style : json.at("style_images")) {
            card.style_images.push_back({style.value("name", ""), style.value("sha256", "")});
        }
    }
    card.iterations = whole_field<InputError>(json, "iterations", 0, 0, kMaxCount, "model card");
    card.images_seen = whole_field<InputError>(json, "images_seen", 0, 0, kMaxCount, "model card");
    card.wall_seconds = finite_field<InputError>(json, "wall_seconds", 0.0, 0.0, kMaxReal, "model card");
    if (json.contains("final_losses")) {
        const ojson& losses = json.at("final_losses");
        for (const auto& [name, value] : losses.items()) {
            card.final_losses[name] =
                finite_field<InputError>(losses, name.c_str(), 0.0, -kMaxReal, kMaxReal, "model card final_losses");
        }
    }
    if (json.contains("training_options")) {
        const ojson& options = json.at("training_options");
        card.training_options = options.is_string() ? options.get<std::string>() : options.dump();
    }
    if (json.contains("stretches")) {
        const std::string context = "model card stretch";
        for (const auto& item : json.at("stretches")) {
            TrainingStretch stretch;
            stretch.first_step = whole_field<InputError>(item, "first_step", 0, 0, kMaxCount, context);
            stretch.last_step = whole_field<InputError>(item, "last_step", 0, 0, kMaxCount, context);
            stretch.wall_seconds = finite_field<InputError>(item, "wall_seconds", 0.0, 0.0, kMaxReal, context);
            stretch.crop = static_cast<int>(whole_field<InputError>(item, "crop", 0, 0, 1 << 20, context));
            stretch.batch = static_cast<int>(whole_field<InputError>(item, "batch", 0, 0, 1 << 20, context));
            stretch.learning_rate = finite_field<InputError>(item, "learning_rate", 0.0, 0.0, kMaxReal, context);
            stretch.hardware = item.value("hardware", "");
            stretch.finished_utc = item.value("finished_utc", "");
            card.stretches.push_back(std::move(stretch));
        }
    }
    if (json.contains("quality")) {
        card.quality = quality_from_json(json.at("quality"));
    }
    return card;
}

} // namespace impasto::io
