#include "server/job_execution.h"

#include "impasto/device.h"
#include "impasto/run_record.h"
#include "impasto/stylize.h"
#include "impasto/version.h"

#include <algorithm>
#include <chrono>

namespace impasto::studio {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

json stage_progress(const std::string& stage, double fraction, double elapsed) {
    return {{"stage", stage},        {"iteration", 0},    {"iterations", 0},
            {"fraction", fraction},  {"losses", nullptr}, {"elapsed_seconds", elapsed},
            {"preview_seq", nullptr}};
}

// Fast methods take the content's own size unless told otherwise; the server caps it.
int capped_size(int requested, const Image& content, int max_side) {
    const int own = std::max(content.width, content.height);
    return requested > 0 ? requested : std::min(own, max_side);
}

JobOutput run_optimisation(const JobRequest& request, const ImageLibrary& images, ModelCache& models,
                           const StudioOptions& options, const JobProgress& on_progress, Clock::time_point start) {
    StylizeOptions stylize_options = to_stylize_options(request.params);
    stylize_options.preview_every = options.preview_every;
    stylize_options.max_pixels = options.max_pixels;
    const Image content = images.load(request.content);
    std::vector<StyleImage> styles;
    const json& blend = request.params.at("style_blend");
    for (std::size_t i = 0; i < request.styles.size(); ++i) {
        styles.push_back({images.load(request.styles[i]), blend.empty() ? 1.0 : blend[i].get<double>()});
    }
    // The styles count at their scaled size, not the content's: style_scale can make them the largest images.
    check_memory_fits(stylize_options, run_image_sizes(content, styles), available_memory_bytes(options.device));
    on_progress(stage_progress("loading weights", 0, seconds_since(start)), nullptr);
    const auto model = models.feature_model();

    const auto callback = [&](const ProgressEvent& event) {
        const double fraction =
            event.total_iterations > 0 ? static_cast<double>(event.total_iteration) / event.total_iterations : 0.0;
        const json progress{{"stage", to_string(event.stage)},
                            {"iteration", event.total_iteration},
                            {"iterations", event.total_iterations},
                            {"fraction", fraction},
                            {"scale", event.scale_index + 1},
                            {"scales", event.scale_count},
                            {"width", event.width},
                            {"height", event.height},
                            {"losses",
                             {{"content", event.losses.content},
                              {"style", event.losses.style},
                              {"tv", event.losses.tv},
                              {"total", event.losses.total}}},
                            {"elapsed_seconds", seconds_since(start)},
                            {"preview_seq", nullptr}};
        return on_progress(progress, event.preview);
    };
    const StylizeResult result = stylize(*model, content, styles, stylize_options, callback);

    RunRecord record;
    record.status = result.cancelled ? "interrupted" : "complete";
    record.command_line = "impasto serve";
    record.content = images.find(request.content)->file.filename();
    for (std::size_t i = 0; i < request.styles.size(); ++i) {
        record.styles.push_back(images.find(request.styles[i])->file.filename());
        record.style_blend.push_back(styles[i].blend_weight);
    }
    record.options = stylize_options;
    record.weights = model->info();
    record.device = options.device;
    record.threads = options.threads;
    record.total_seconds = seconds_since(start);
    record.peak_memory_bytes = peak_rss_bytes();
    record.result = &result;

    JobOutput output;
    output.image = result.image;
    output.cancelled = result.cancelled;
    output.sidecar = json::parse(run_record_json(record));
    return output;
}

JobOutput run_feed_forward(const JobRequest& request, const ImageLibrary& images, ModelCache& models,
                           const StudioOptions& options, const JobProgress& on_progress, Clock::time_point start) {
    const Image content = images.load(request.content);
    JobOutput output;
    json description;
    if (request.method == JobMethod::Fast) {
        FastStylizeOptions fast = to_fast_options(request.params);
        fast.size = capped_size(fast.size, content, options.max_output_side);
        fast.max_pixels = options.max_pixels;
        on_progress(stage_progress("loading model", 0.1, seconds_since(start)), nullptr);
        const auto network = models.network(request.params.at("model").get<std::string>());
        if (!on_progress(stage_progress("stylizing", 0.3, seconds_since(start)), nullptr)) {
            output.cancelled = true;
            return output;
        }
        output.image = stylize_fast(*network, content, fast);
        description = {{"model", request.params.at("model")}, {"styles", network->style_names()}, {"size", fast.size}};
    } else {
        ArbitraryOptions arbitrary = to_arbitrary_options(request.params);
        arbitrary.size = capped_size(arbitrary.size, content, options.max_output_side);
        arbitrary.max_pixels = options.max_pixels;
        std::vector<ArbitraryStyle> styles;
        const json& weights = request.params.at("style_weights");
        for (std::size_t i = 0; i < request.styles.size(); ++i) {
            ArbitraryStyle style;
            style.image = images.load(request.styles[i]);
            style.weight = weights.empty() ? 1.0 : weights[i].get<double>();
            styles.push_back(std::move(style));
        }
        on_progress(stage_progress("loading model", 0.1, seconds_since(start)), nullptr);
        const auto encoder = models.feature_model();
        const auto decoders = models.decoders();
        if (!on_progress(stage_progress("stylizing", 0.3, seconds_since(start)), nullptr)) {
            output.cancelled = true;
            return output;
        }
        output.image = stylize_arbitrary(*encoder, *decoders, content, styles, arbitrary);
        description = {{"transform", to_string(arbitrary.method)},
                       {"decoder_levels", decoders->levels()},
                       {"size", arbitrary.size}};
    }
    output.sidecar = {{"status", "complete"},
                      {"run", description},
                      {"width", output.image.width},
                      {"height", output.image.height},
                      {"device", options.device.str()},
                      {"threads", options.threads},
                      {"seconds", {{"total", seconds_since(start)}}},
                      {"peak_memory_bytes", peak_rss_bytes()}};
    return output;
}

} // namespace

JobOutput execute_job(const std::string& job_id, const JobRequest& request, const ImageLibrary& images,
                      ModelCache& models, const StudioOptions& options, const JobProgress& on_progress) {
    const auto start = Clock::now();
    JobOutput output = request.method == JobMethod::Optimisation
                           ? run_optimisation(request, images, models, options, on_progress, start)
                           : run_feed_forward(request, images, models, options, on_progress, start);
    output.seconds = seconds_since(start);
    json studio{{"job", job_id},
                {"method", to_string(request.method)},
                {"content", request.content},
                {"styles", request.styles},
                {"params", request.params},
                {"parent", request.parent.empty() ? json(nullptr) : json(request.parent)},
                {"settings_key", settings_key(request)}};
    output.sidecar["studio"] = studio;
    output.sidecar["impasto_version"] = IMPASTO_VERSION;
    output.sidecar["torch_version"] = torch_version();
    return output;
}

} // namespace impasto::studio
