#include "cli_common.h"

#include "impasto/error.h"
#include "impasto/weights.h"

#include <thread>

namespace impasto::cli {
namespace {
std::string& command_line_storage() {
    static std::string text;
    return text;
}
} // namespace

void remember_command_line(int argc, char** argv) {
    std::string text;
    for (int i = 0; i < argc; ++i) {
        text += (i ? " " : "") + std::string(argv[i]);
    }
    command_line_storage() = text;
}

std::string joined_command_line() {
    return command_line_storage();
}

Device resolve_device(const std::string& text) {
    if (text == "auto") {
        return cuda_available() ? Device{DeviceKind::Cuda, 0} : Device{DeviceKind::Cpu, 0};
    }
    if (text == "cpu") {
        return {DeviceKind::Cpu, 0};
    }
    if (text.rfind("cuda", 0) == 0) {
        int index = 0;
        const std::string suffix = text.size() > 5 && text[4] == ':' ? text.substr(5) : "";
        if (!suffix.empty() && suffix.find_first_not_of("0123456789") == std::string::npos && suffix.size() < 4) {
            index = std::stoi(suffix);
        } else if (text != "cuda") {
            throw ConfigError("unknown device '" + text + "'; choose one of: auto, cpu, cuda, cuda:N");
        }
        if (!cuda_available()) {
            throw ConfigError("device '" + text +
                              "' requested but this build or machine has no CUDA; use --device cpu");
        }
        return {DeviceKind::Cuda, index};
    }
    throw ConfigError("unknown device '" + text + "'; choose one of: auto, cpu, cuda, cuda:N");
}

Precision resolve_precision(const std::string& text, const Device& device) {
    if (text == "auto") {
        if (device.kind == DeviceKind::Cuda || (cpu_has_native_bf16() && cpu_bf16_available())) {
            return Precision::Bf16;
        }
        return Precision::Fp32;
    }
    return parse_precision(text);
}

int resolve_threads(int requested) {
    if (requested < 0) {
        throw ConfigError("threads = " + std::to_string(requested) +
                          " is out of range; allowed: 0 (all cores) or more");
    }
    if (requested == 0) {
        return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    }
    return requested;
}

ImageLoadLimits decode_limits(std::int64_t max_pixels) {
    if (max_pixels < 256 || max_pixels > (std::int64_t{1} << 40)) {
        throw ConfigError("max-pixels = " + std::to_string(max_pixels) + " is out of range; allowed: 256..2^40");
    }
    ImageLoadLimits limits;
    limits.max_pixels = max_pixels;
    return limits;
}

std::string max_pixels_help(const std::string& what) {
    return "Largest image in pixels: the decode limit of every input image, " + what +
           " [default: " + std::to_string(kDefaultMaxPixels) + "]";
}

std::shared_ptr<const FeatureModel> load_model(const CliState& state, const std::string& weight_set,
                                               const Device& device) {
    const WeightStore store(state.weights_dir);
    const WeightSetInfo info = store.require(weight_set);
    return FeatureModel::create(load_weight_set(info), device);
}

} // namespace impasto::cli
