// `impasto models measure` (see impasto/model_measure.h): decoders by reconstruction PSNR, style
// networks by their Gatys losses relative to the optimisation's, written into the model card.
#include "impasto/error.h"
#include "impasto/model_measure.h"
#include "impasto/version.h"
#include "train/measure_session.h"
#include "train/train_common.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>

namespace impasto {
namespace fs = std::filesystem;

namespace measure {

// std::nearbyint rounds to nearest even, as OpenCV's saturate_cast does; both scalings are in float.
Image as_8_bit(Image image) {
    const auto to_float = static_cast<float>(1.0 / 255.0);
    for (float& value : image.rgb) {
        value = std::nearbyint(std::clamp(value * 255.0F, 0.0F, 255.0F)) * to_float;
    }
    return image;
}

Image load(const fs::path& file, const MeasureOptions& options, const char* what) {
    ImageLoadLimits limits;
    limits.max_pixels = options.max_pixels;
    try {
        return load_image(file, limits);
    } catch (const Error& e) {
        rethrow_with_context(InputError(e.what()), what);
    }
}

} // namespace measure

namespace {

using Clock = std::chrono::steady_clock;

// The error in flight, its type kept, with the model it happened to in front.
[[noreturn]] void rethrow_naming_model(const fs::path& model) {
    const std::string context = "measuring model '" + model.string() + "'";
    try {
        throw;
    } catch (const ConfigError& e) {
        rethrow_with_context(e, context);
    } catch (const InputError& e) {
        rethrow_with_context(e, context);
    } catch (const WeightsError& e) {
        rethrow_with_context(e, context);
    } catch (const OutputError& e) {
        rethrow_with_context(e, context);
    } catch (const ResourceError& e) {
        rethrow_with_context(e, context);
    } catch (const Error& e) {
        rethrow_with_context(e, context);
    }
}

} // namespace
void MeasureOptions::validate() const {
    // 32: the optimisation's first step is half the size, and VGG19 needs 16 px on each side (a
    // narrower image is refused by check_vgg_side, naming it).
    if (size < 32 || size > kMaxImageSide) {
        throw ConfigError(fmt::format("measure size = {} is out of range; allowed: 32..{}", size, kMaxImageSide));
    }
    if (max_pixels < 256) {
        throw ConfigError(fmt::format("measure max_pixels = {} is out of range; allowed: >= 256", max_pixels));
    }
    if (precision == Precision::Fp16) {
        throw ConfigError("measure precision = fp16 is not supported; allowed: fp32, bf16");
    }
}

std::vector<MeasureResult> measure_models(const FeatureModel& vgg, const std::vector<fs::path>& models,
                                          const MeasureOptions& options, const MeasureCallback& on_event) {
    options.validate();
    if (models.empty()) {
        throw ConfigError("no model to measure");
    }
    measure::Session session(vgg, options, on_event);
    std::vector<MeasureResult> results;
    for (std::size_t i = 0; i < models.size(); ++i) {
        const StyleModelFile file = read_style_model(models[i]);
        const auto model_start = Clock::now();
        session.current = MeasureEvent{};
        session.current.model = models[i];
        session.current.kind = file.kind;
        session.current.model_index = static_cast<int>(i);
        session.current.model_count = static_cast<int>(models.size());
        MeasureResult result;
        result.model = models[i];
        result.kind = file.kind;
        MeasureEvent started;
        started.stage = MeasureStage::Model;
        if (!session.emit(started)) {
            result.cancelled = true;
            results.push_back(std::move(result));
            break;
        }
        try {
            result.quality = file.kind == StyleModelKind::Decoder ? measure::measure_decoder(session, file)
                                                                  : measure::measure_style_model(session, file);
        } catch (const Error&) {
            rethrow_naming_model(models[i]);
        }
        if (session.cancelled) {
            result.cancelled = true;
            results.push_back(std::move(result));
            break;
        }
        ModelQuality& quality = result.quality;
        quality.size = options.size;
        quality.precision = to_string(options.precision);
        quality.hardware = train::hardware_description(vgg.device(), options.precision);
        quality.wall_seconds = std::chrono::duration<double>(Clock::now() - model_start).count();
        quality.tensors_sha256 = tensors_sha256(file.tensors);
        quality.measured_utc = train::utc_now_iso();
        quality.impasto_version = IMPASTO_VERSION;
        if (options.write) {
            write_model_quality(models[i], quality, quality.tensors_sha256);
            result.written = true;
        }
        MeasureEvent finished;
        finished.stage = MeasureStage::Finished;
        finished.row = session.current.rows;
        finished.quality = &result.quality;
        results.push_back(std::move(result));
        if (!session.emit(finished)) {
            break;
        }
    }
    return results;
}

} // namespace impasto
