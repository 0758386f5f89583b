// A model card's quality record: its bounds, its JSON both ways, and its one-line summary.
#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "impasto/stylize_options.h"
#include "io/json_numbers.h"
#include "io/model_card_json.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <optional>
#include <utility>

namespace impasto {
using ojson = nlohmann::ordered_json;

namespace {

// Image, folder and style names are file names; 255 bytes is the longest most file systems allow.
constexpr std::size_t kMaxFileName = 255;

bool is_figure_name(const std::string& name) {
    return !name.empty() && name.size() <= kMaxQualityName && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// The bounds of a record, whoever made it: E is ConfigError for a caller's record, InputError for a file's.
template <class E> void check_figures(const QualityFigures& figures, const std::string& where) {
    if (figures.size() > kMaxQualityFigures) {
        throw E(fmt::format("{}: {} figures, over the limit of {}", where, figures.size(), kMaxQualityFigures));
    }
    for (const auto& [name, value] : figures) {
        if (!is_figure_name(name)) {
            throw E(fmt::format("{}: figure name '{}' is not 1..{} characters of a-z, 0-9 and _", where,
                                name.substr(0, 80), kMaxQualityName));
        }
        if (!std::isfinite(value)) {
            throw E(fmt::format("{}: {} = {} is not a finite number", where, name, value));
        }
    }
}

template <class E> void check_text(const std::string& text, std::size_t limit, const std::string& where) {
    if (text.size() > limit) {
        throw E(fmt::format("{} is {} bytes, over the limit of {}", where, text.size(), limit));
    }
}

template <class E> void check_quality(const ModelQuality& quality) {
    const std::string context = "model card quality";
    check_figures<E>(quality.figures, context + " figures");
    if (quality.styles.size() > kMaxQualityStyles) {
        throw E(fmt::format("{}: {} styles, over the limit of {}", context, quality.styles.size(), kMaxQualityStyles));
    }
    for (std::size_t i = 0; i < quality.styles.size(); ++i) {
        const std::string where = fmt::format("{} styles[{}]", context, i);
        check_text<E>(quality.styles[i].name, kMaxFileName, where + " name");
        check_figures<E>(quality.styles[i].figures, where + " figures");
    }
    if (quality.rows.size() > kMaxQualityRows) {
        throw E(fmt::format("{}: {} rows, over the limit of {}", context, quality.rows.size(), kMaxQualityRows));
    }
    for (std::size_t i = 0; i < quality.rows.size(); ++i) {
        const QualityRow& row = quality.rows[i];
        const std::string where = fmt::format("{} rows[{}]", context, i);
        check_text<E>(row.image, kMaxFileName, where + " image");
        check_text<E>(row.group, kMaxFileName, where + " group");
        check_text<E>(row.style, kMaxFileName, where + " style");
        check_figures<E>(row.figures, where + " figures");
    }
    for (const auto& [key, text] : {std::pair{"evaluation", &quality.evaluation},
                                    {"reference", &quality.reference},
                                    {"worst", &quality.worst},
                                    {"precision", &quality.precision},
                                    {"hardware", &quality.hardware},
                                    {"measured_utc", &quality.measured_utc},
                                    {"impasto_version", &quality.impasto_version}}) {
        check_text<E>(*text, kMaxQualityText, context + " " + key);
    }
    if (quality.size != 0 && (quality.size < 16 || quality.size > kMaxImageSide)) {
        throw E(fmt::format("{}: size = {} is out of range; allowed: 16..{} (0 = not recorded)", context, quality.size,
                            kMaxImageSide));
    }
    if (!std::isfinite(quality.wall_seconds) || quality.wall_seconds < 0) {
        throw E(fmt::format("{}: wall_seconds = {} is out of range; allowed: a finite number >= 0", context,
                            quality.wall_seconds));
    }
    const std::string& hash = quality.tensors_sha256;
    if (!hash.empty() && (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos)) {
        throw E(fmt::format("{}: tensors_sha256 '{}' is not 64 lower-case hex digits", context, hash.substr(0, 80)));
    }
}

ojson figures_to_json(const QualityFigures& figures) {
    ojson json = ojson::object();
    for (const auto& [name, value] : figures) {
        json[name] = value;
    }
    return json;
}

QualityFigures figures_from_json(const ojson& json, const std::string& where) {
    if (!json.is_object()) {
        throw InputError(fmt::format("{}: not a JSON object", where));
    }
    if (json.size() > kMaxQualityFigures) { // before copying anything out of it
        throw InputError(fmt::format("{}: {} figures, over the limit of {}", where, json.size(), kMaxQualityFigures));
    }
    QualityFigures figures;
    for (const auto& [name, value] : json.items()) {
        figures[name] = io::finite_field<InputError>(json, name.c_str(), 0.0, -std::numeric_limits<double>::max(),
                                                     std::numeric_limits<double>::max(), where);
    }
    return figures;
}

std::string text_from_json(const ojson& object, const char* key, const std::string& where) {
    if (!object.contains(key)) {
        return {};
    }
    const ojson& value = object.at(key);
    if (!value.is_string()) {
        throw InputError(fmt::format("{}: {} must be a string, not {}", where, key, value.type_name()));
    }
    return value.get<std::string>();
}

const ojson& array_from_json(const ojson& object, const char* key, std::size_t limit, const std::string& where) {
    static const ojson empty = ojson::array();
    if (!object.contains(key)) {
        return empty;
    }
    const ojson& value = object.at(key);
    if (!value.is_array()) {
        throw InputError(fmt::format("{}: {} must be an array, not {}", where, key, value.type_name()));
    }
    if (value.size() > limit) {
        throw InputError(fmt::format("{}: {} has {} entries, over the limit of {}", where, key, value.size(), limit));
    }
    return value;
}

// "6.3", "0.52", "1.2e+03": ratios span orders of magnitude; two significant digits say enough in a list.
std::string short_ratio(double ratio) {
    return ratio >= 10 && ratio < 1000 ? fmt::format("{:.0f}", ratio) : fmt::format("{:.2g}", ratio);
}

} // namespace

void validate_quality(const ModelQuality& quality) {
    check_quality<ConfigError>(quality);
}

std::string describe_quality(const ModelQuality& quality) {
    return io::quality_to_json(quality).dump(2);
}

std::string quality_summary(const ModelQuality& quality) {
    const auto figure = [&](const char* name) {
        const auto found = quality.figures.find(name);
        return found == quality.figures.end() ? std::optional<double>{} : std::optional<double>{found->second};
    };
    if (const auto psnr = figure("reconstruction_psnr_db")) {
        return fmt::format("{:.1f} dB", *psnr);
    }
    const auto style = figure("style_loss_ratio");
    const auto content = figure("content_loss_ratio");
    if (style && content) {
        return fmt::format("style {}x content {}x", short_ratio(*style), short_ratio(*content));
    }
    return quality.figures.empty() ? "-" : fmt::format("{} figures", quality.figures.size());
}

namespace io {

ojson quality_to_json(const ModelQuality& quality) {
    ojson styles = ojson::array();
    for (const StyleQuality& style : quality.styles) {
        styles.push_back({{"name", style.name}, {"figures", figures_to_json(style.figures)}});
    }
    ojson rows = ojson::array();
    for (const QualityRow& row : quality.rows) {
        ojson item{{"image", row.image}, {"group", row.group}};
        if (!row.style.empty()) {
            item["style"] = row.style;
        }
        item["seen_in_training"] = row.seen_in_training;
        item["figures"] = figures_to_json(row.figures);
        rows.push_back(std::move(item));
    }
    return ojson{{"figures", figures_to_json(quality.figures)},
                 {"evaluation", quality.evaluation},
                 {"reference", quality.reference},
                 {"worst", quality.worst},
                 {"size", quality.size},
                 {"precision", quality.precision},
                 {"hardware", quality.hardware},
                 {"wall_seconds", quality.wall_seconds},
                 {"tensors_sha256", quality.tensors_sha256},
                 {"measured_utc", quality.measured_utc},
                 {"impasto_version", quality.impasto_version},
                 {"styles", std::move(styles)},
                 {"rows", std::move(rows)}};
}

ModelQuality quality_from_json(const ojson& json) {
    const std::string context = "model card quality";
    if (!json.is_object()) {
        throw InputError(fmt::format("{}: not a JSON object but {}", context, json.type_name()));
    }
    ModelQuality quality;
    if (json.contains("figures")) {
        quality.figures = figures_from_json(json.at("figures"), context + " figures");
    }
    const ojson& styles = array_from_json(json, "styles", kMaxQualityStyles, context);
    for (std::size_t i = 0; i < styles.size(); ++i) {
        const std::string where = fmt::format("{} styles[{}]", context, i);
        if (!styles[i].is_object()) {
            throw InputError(where + ": not a JSON object");
        }
        StyleQuality style;
        style.name = text_from_json(styles[i], "name", where);
        if (styles[i].contains("figures")) {
            style.figures = figures_from_json(styles[i].at("figures"), where + " figures");
        }
        quality.styles.push_back(std::move(style));
    }
    const ojson& rows = array_from_json(json, "rows", kMaxQualityRows, context);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::string where = fmt::format("{} rows[{}]", context, i);
        const ojson& item = rows[i];
        if (!item.is_object()) {
            throw InputError(where + ": not a JSON object");
        }
        QualityRow row;
        row.image = text_from_json(item, "image", where);
        row.group = text_from_json(item, "group", where);
        row.style = text_from_json(item, "style", where);
        if (item.contains("seen_in_training")) {
            if (!item.at("seen_in_training").is_boolean()) {
                throw InputError(where + ": seen_in_training must be true or false");
            }
            row.seen_in_training = item.at("seen_in_training").get<bool>();
        }
        if (item.contains("figures")) {
            row.figures = figures_from_json(item.at("figures"), where + " figures");
        }
        quality.rows.push_back(std::move(row));
    }
    quality.evaluation = text_from_json(json, "evaluation", context);
    quality.reference = text_from_json(json, "reference", context);
    quality.worst = text_from_json(json, "worst", context);
    quality.precision = text_from_json(json, "precision", context);
    quality.hardware = text_from_json(json, "hardware", context);
    quality.tensors_sha256 = text_from_json(json, "tensors_sha256", context);
    quality.measured_utc = text_from_json(json, "measured_utc", context);
    quality.impasto_version = text_from_json(json, "impasto_version", context);
    // 0 is what a record without a size reads as; a written size is one a measurement could use.
    quality.size = static_cast<int>(whole_field<InputError>(json, "size", 0, 0, kMaxImageSide, context));
    quality.wall_seconds =
        finite_field<InputError>(json, "wall_seconds", 0.0, 0.0, std::numeric_limits<double>::max(), context);
    check_quality<InputError>(quality);
    return quality;
}

} // namespace io
} // namespace impasto
