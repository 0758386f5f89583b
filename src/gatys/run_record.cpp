#include "impasto/run_record.h"

#include "gatys/loss_history_json.h"
#include "impasto/version.h"

#include <nlohmann/json.hpp>

namespace impasto {
namespace {

nlohmann::json to_json(const StylizeOptions& o) {
    nlohmann::json schedule = nlohmann::json::array();
    for (const ScaleStep& step : o.schedule()) {
        schedule.push_back({{"long_side", step.long_side}, {"iterations", step.iterations}});
    }
    return {
        {"preset", o.preset},
        {"content_layers", o.content_layers},
        {"style_layers", o.style_layers},
        {"style_layer_weights", o.style_layer_weights},
        {"content_weight", o.content_weight},
        {"style_weight", o.style_weight},
        {"tv_weight", o.tv_weight},
        {"loss_scaling", to_string(o.loss_scaling)},
        {"pooling", to_string(o.pooling)},
        {"optimizer", to_string(o.optimizer)},
        {"lbfgs_history", o.lbfgs_history},
        {"lbfgs_line_search", o.lbfgs_line_search},
        {"learning_rate", o.learning_rate},
        {"adam_learning_rate", o.adam_learning_rate},
        {"init", to_string(o.init)},
        {"init_file", o.init_file.string()},
        {"seed", o.seed},
        {"noise_stddev", o.noise_stddev},
        {"size", o.size},
        {"iterations", o.iterations},
        {"schedule", schedule},
        {"style_scale", o.style_scale},
        {"color", to_string(o.color)},
        {"precision", to_string(o.precision)},
    };
}

} // namespace

std::string options_json(const StylizeOptions& options) {
    return to_json(options).dump();
}

std::filesystem::path sidecar_path(const std::filesystem::path& output) {
    std::filesystem::path path = output;
    return path.replace_extension(".json");
}

std::string run_record_json(const RunRecord& record) {
    nlohmann::json styles = nlohmann::json::array();
    for (std::size_t i = 0; i < record.styles.size(); ++i) {
        styles.push_back({{"path", record.styles[i].string()},
                          {"blend_weight", i < record.style_blend.size() ? record.style_blend[i] : 1.0}});
    }
    nlohmann::json json{
        {"tool", "impasto"},
        {"version", IMPASTO_VERSION},
        {"status", record.status},
        {"command_line", record.command_line},
        {"inputs", {{"content", record.content.string()}, {"styles", styles}}},
        {"output", record.output.string()},
        {"parameters", to_json(record.options)},
        {"seed", record.options.seed},
        {"weights",
         {{"name", record.weights.name},
          {"sha256", record.weights.sha256},
          {"normalization", normalization_name(record.weights.normalization)},
          {"source", record.weights.source}}},
        {"environment",
         {{"torch", torch_version()},
          {"device", record.device.str()},
          {"threads", record.threads},
          {"blas", blas_library()},
          {"blas_core", blas_core()}}},
        {"total_seconds", record.total_seconds},
        {"peak_memory_bytes", record.peak_memory_bytes},
    };
    if (record.result != nullptr) {
        const StylizeResult& result = *record.result;
        nlohmann::json stages = nlohmann::json::array();
        for (const StageTime& stage : result.stage_times) {
            stages.push_back({{"name", stage.name}, {"seconds", stage.seconds}});
        }
        json["loss_history"] = loss_history_json(result.history);
        json["stage_times"] = stages;
        json["iterations_done"] = result.iterations_done;
        json["width"] = result.width;
        json["height"] = result.height;
    }
    return json.dump(2) + "\n";
}

} // namespace impasto
