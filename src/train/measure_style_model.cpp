// `models measure` for transformer and StyleBank networks: for each style and photo, the Gatys losses
// of `impasto evaluate` of the network's output and of the optimisation's (the default preset at the
// same size and precision), and their ratios.
#include "impasto/error.h"
#include "impasto/evaluate.h"
#include "impasto/fast_style.h"
#include "impasto/stylize.h"
#include "train/measure_inputs.h"
#include "train/measure_session.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>
#include <tuple>

namespace impasto::measure {
namespace fs = std::filesystem;

namespace {

// VGG19 to relu5_1 halves an image four times: a side under 16 px leaves it no feature map, which
// LibTorch reports as an untyped error in the middle of a run. Checked before anything runs.
constexpr int kMinVggSide = 16;

void check_vgg_side(const Image& image, int long_side, const fs::path& file, int size) {
    const ImageSize scaled = scaled_to_long_side(ImageSize{image.width, image.height}, long_side);
    if (std::min(scaled.width, scaled.height) < kMinVggSide) {
        throw ConfigError(fmt::format("'{}' ({}x{}) at a long side of {} px is {}x{}, under the {} px VGG19 needs on "
                                      "each side; measure at a larger size than {}",
                                      file.string(), image.width, image.height, long_side, scaled.width, scaled.height,
                                      kMinVggSide, size));
    }
}

double geometric_mean(const std::vector<double>& values) {
    double sum = 0;
    for (const double value : values) {
        sum += std::log(value);
    }
    return std::exp(sum / static_cast<double>(values.size()));
}
// Rows in, each style's summary and the model's out: geometric means of the ratios (a ratio of 2
// and one of 1/2 average to 1), and the worst style ratio.
void summarise_styles(ModelQuality& quality, const std::vector<std::string>& names) {
    std::vector<double> all_style;
    std::vector<double> all_content;
    const QualityRow* worst = nullptr;
    for (const std::string& name : names) {
        std::vector<double> style;
        std::vector<double> content;
        for (const QualityRow& row : quality.rows) {
            if (row.style != name || row.figures.count("style_loss_ratio") == 0 ||
                row.figures.count("content_loss_ratio") == 0) {
                continue;
            }
            style.push_back(row.figures.at("style_loss_ratio"));
            content.push_back(row.figures.at("content_loss_ratio"));
            if (worst == nullptr || style.back() > worst->figures.at("style_loss_ratio")) {
                worst = &row;
            }
        }
        StyleQuality summary{name, {}};
        if (!style.empty()) {
            summary.figures = {{"style_loss_ratio", geometric_mean(style)},
                               {"content_loss_ratio", geometric_mean(content)},
                               {"style_loss_ratio_worst", *std::max_element(style.begin(), style.end())}};
        }
        all_style.insert(all_style.end(), style.begin(), style.end());
        all_content.insert(all_content.end(), content.begin(), content.end());
        quality.styles.push_back(std::move(summary));
    }
    if (worst != nullptr) {
        quality.figures = {{"style_loss_ratio", geometric_mean(all_style)},
                           {"content_loss_ratio", geometric_mean(all_content)},
                           {"style_loss_ratio_worst", worst->figures.at("style_loss_ratio")}};
        quality.worst = fmt::format("{} on {}: style loss {:.3g}x the optimisation's", worst->style, worst->image,
                                    worst->figures.at("style_loss_ratio"));
    }
}

// The optimisation's losses for a photo and a style: made once per session, as the reference of
// every model with that style.
std::optional<Evaluation> optimisation_losses(Session& session, const fs::path& photo_path, const Image& photo,
                                              const fs::path& style_path, const Image& style,
                                              const StylizeOptions& options, MeasureEvent event) {
    const auto identity = [](const fs::path& path) {
        std::error_code ec;
        const fs::path canonical = fs::weakly_canonical(path, ec);
        return (ec ? path.lexically_normal() : canonical).string();
    };
    const std::string key = fmt::format("{}\n{}\n{}\n{}", identity(photo_path), identity(style_path), options.size,
                                        to_string(options.precision));
    if (const auto found = session.optimisation.find(key); found != session.optimisation.end()) {
        return found->second;
    }
    event.stage = MeasureStage::Optimizing;
    const StylizeResult result =
        stylize(session.vgg, photo, {StyleImage{style, 1.0}}, options, [&](const ProgressEvent& progress) {
            event.optimization = &progress;
            return session.emit(event);
        });
    if (result.cancelled) {
        return std::nullopt;
    }
    const Evaluation losses =
        evaluate(session.vgg, as_8_bit(result.image), photo, style, EvaluationOptions{session.options.size});
    session.optimisation.emplace(key, losses);
    return losses;
}
} // namespace

ModelQuality measure_style_model(Session& session, const StyleModelFile& file) {
    const MeasureOptions& options = session.options;
    const auto network = StyleNetwork::from_file(file, session.vgg.device());
    const std::vector<std::string>& names = network->style_names();
    const std::vector<fs::path> photo_paths = style_photos(options, file.card);
    if (names.size() * photo_paths.size() > kMaxQualityRows) {
        throw ConfigError(fmt::format("{} styles x {} photos to measure; at most {} in all", names.size(),
                                      photo_paths.size(), kMaxQualityRows));
    }
    std::vector<Image> photos;
    for (const fs::path& path : photo_paths) {
        photos.push_back(load(path, options, "photo to stylise"));
    }
    const std::vector<fs::path> folders = training_folders(file.card);
    std::vector<bool> seen;
    for (const fs::path& path : photo_paths) {
        seen.push_back(in_training_data(path, folders));
    }
    StylizeOptions reference = preset_options("default");
    reference.size = options.size;
    reference.precision = options.precision;
    reference.max_pixels = options.max_pixels;
    reference.validate();
    const EvaluationOptions scoring{options.size};
    for (std::size_t p = 0; p < photos.size(); ++p) {
        check_vgg_side(photos[p], options.size, photo_paths[p], options.size);
        for (const ScaleStep& step : reference.schedule()) {
            check_vgg_side(photos[p], step.long_side, photo_paths[p], options.size);
        }
    }

    ModelQuality quality;
    session.current.rows = static_cast<int>(names.size() * photos.size());
    for (std::size_t s = 0; s < names.size(); ++s) {
        const StyleImageRecord record =
            s < file.card.style_images.size() ? file.card.style_images[s] : StyleImageRecord{names[s], ""};
        const fs::path style_path = find_style_image(record, file.card, options);
        const Image style = load(style_path, options, "style image");
        check_vgg_side(style, options.size, style_path, options.size);
        for (const ScaleStep& step : reference.schedule()) {
            check_vgg_side(style, reference.style_long_side(step.long_side), style_path, options.size);
        }
        FastStylizeOptions fast;
        fast.style_weights.assign(names.size(), 0.0);
        fast.style_weights[s] = 1.0;
        fast.size = options.size;
        fast.precision = options.precision;
        fast.max_pixels = options.max_pixels;
        fast.validate(static_cast<int>(names.size()));
        for (std::size_t p = 0; p < photos.size(); ++p) {
            MeasureEvent event;
            event.row = static_cast<int>(quality.rows.size());
            event.label = fmt::format("{} on {}", names[s], photo_paths[p].filename().string());
            const Evaluation model =
                evaluate(session.vgg, as_8_bit(stylize_fast(*network, photos[p], fast)), photos[p], style, scoring);
            const auto optimised =
                optimisation_losses(session, photo_paths[p], photos[p], style_path, style, reference, event);
            if (!optimised) {
                return quality;
            }
            QualityRow row;
            row.image = photo_paths[p].filename().string();
            row.group = folder_name(photo_paths[p]);
            row.style = names[s];
            row.seen_in_training = seen[p];
            row.figures = {{"style_loss", model.style_loss},
                           {"content_loss", model.content_loss},
                           {"style_loss_optimisation", optimised->style_loss},
                           {"content_loss_optimisation", optimised->content_loss}};
            // A ratio needs a positive reference; an exact zero (an output equal to its targets) gets none.
            for (const auto& [name, numerator, denominator] :
                 {std::tuple{"style_loss_ratio", model.style_loss, optimised->style_loss},
                  std::tuple{"content_loss_ratio", model.content_loss, optimised->content_loss}}) {
                const double ratio = numerator / denominator;
                if (denominator > 0 && std::isfinite(ratio) && ratio > 0) {
                    row.figures[name] = ratio;
                }
            }
            quality.rows.push_back(std::move(row));
            event.stage = MeasureStage::Row;
            event.row = static_cast<int>(quality.rows.size());
            event.measured = &quality.rows.back();
            if (!session.emit(event)) {
                return quality;
            }
        }
    }
    summarise_styles(quality, names);
    quality.evaluation = fmt::format(
        "{}, at {} px; Gatys losses of the 8-bit outputs as `impasto evaluate` scores them ({}, fp32, max pooling; "
        "content relu4_2, style relu1_1..relu5_1)",
        describe_images(photo_paths, seen, true, !folders.empty()), options.size, session.vgg.info().name);
    quality.reference = fmt::format("optimisation with the default preset (schedule {}, L-BFGS from the content), "
                                    "same photos, styles, size and precision; ratios are network / optimisation, "
                                    "geometric means over photos (and styles)",
                                    format_schedule(reference.schedule()));
    return quality;
}

} // namespace impasto::measure
