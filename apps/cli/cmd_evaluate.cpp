// `impasto evaluate OUTPUT --content C --style S`: the fixed Gatys yardstick for any tool's output;
// `impasto evaluate OUTPUT --reference R`: PSNR and edge sharpness against an image of the same scene.
#include "cli_common.h"
#include "commands.h"
#include "impasto/error.h"
#include "impasto/evaluate.h"
#include "impasto/image_metrics.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

namespace impasto::cli {
namespace {

struct EvaluateArgs {
    std::vector<std::string> outputs;
    std::string content;
    std::string style;
    std::string reference;
    int size = EvaluationOptions{}.size;
    std::string device = "auto";
    int threads = 0;
    bool json = false;
    std::string weights = kDefaultWeightSet;
};

Image load_named(const std::string& file, const char* role) {
    try {
        return load_image(file);
    } catch (const Error& e) {
        rethrow_with_context(InputError(e.what()), role);
    }
}

// Each output against the reference resized to the output's size (the output's resolution is the
// one being judged).
void run_compare(const EvaluateArgs& args) {
    const Image reference = load_named(args.reference, "reference image");
    nlohmann::json rows = nlohmann::json::array();
    if (!args.json) {
        std::printf("%-40s %10s %10s\n", "output", "psnr_db", "edge_ratio");
    }
    for (const std::string& file : args.outputs) {
        const Image output = load_named(file, "output image");
        const Fidelity result = compare_images(output, resize_image(reference, output.width, output.height));
        if (args.json) {
            rows.push_back({{"output", file},
                            {"psnr_db", result.psnr_db},
                            {"edge_ratio", result.edge_ratio},
                            {"width", output.width},
                            {"height", output.height}});
        } else {
            std::printf("%-40s %10.2f %10.3f\n", file.c_str(), result.psnr_db, result.edge_ratio);
        }
    }
    if (args.json) {
        std::printf("%s\n", rows.dump(2).c_str());
    }
}

void run_evaluate(const EvaluateArgs& args, const CliState& state) {
    if (!args.reference.empty()) {
        if (!args.content.empty() || !args.style.empty()) {
            throw ConfigError("--reference compares pixels; --content and --style score Gatys losses: give one or "
                              "the other");
        }
        run_compare(args);
        return;
    }
    if (args.content.empty() || args.style.empty()) {
        throw ConfigError("evaluate needs --content and --style (Gatys losses), or --reference (PSNR)");
    }
    const Image content = load_named(args.content, "content image");
    const Image style = load_named(args.style, "style image");
    std::vector<Image> outputs;
    for (const std::string& file : args.outputs) {
        outputs.push_back(load_named(file, "output image"));
    }
    const Device device = resolve_device(args.device);
    set_num_threads(resolve_threads(args.threads));
    const auto model = load_model(state, args.weights, device);
    EvaluationOptions options;
    options.size = args.size;
    nlohmann::json rows = nlohmann::json::array();
    if (!args.json) {
        std::printf("%-40s %14s %14s\n", "output", "content_loss", "style_loss");
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const Evaluation result = evaluate(*model, outputs[i], content, style, options);
        if (args.json) {
            rows.push_back({{"output", args.outputs[i]},
                            {"content_loss", result.content_loss},
                            {"style_loss", result.style_loss},
                            {"width", result.width},
                            {"height", result.height},
                            {"weights_sha256", model->info().sha256}});
        } else {
            std::printf("%-40s %14.6g %14.6g\n", args.outputs[i].c_str(), result.content_loss, result.style_loss);
        }
    }
    if (args.json) {
        std::printf("%s\n", rows.dump(2).c_str());
    }
}

} // namespace

void setup_evaluate(CLI::App& app, CliState& state) {
    auto args = std::make_shared<EvaluateArgs>();
    CLI::App* cmd = app.add_subcommand("evaluate", "Gatys losses of output images under fp32 VGG19 (max pooling, "
                                                   "relu4_2; relu1_1..relu5_1, w=1/5), or PSNR against a reference");
    cmd->add_option("outputs", args->outputs, "Images to score")->required();
    cmd->add_option("--content", args->content, "Content photo (with --style)");
    cmd->add_option("--style", args->style, "Style image (with --content)");
    cmd->add_option("--reference", args->reference,
                    "Instead of losses: PSNR and edge sharpness (gradient at the reference's strongest edges, "
                    "against its own) of each output against this image, resized to the output's size");
    cmd->add_option("--size", args->size, "Long side every image is resized to")->capture_default_str();
    cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads; 0 = every core")->capture_default_str();
    cmd->add_option("--weights", args->weights, "Weight set")->capture_default_str();
    cmd->add_flag("--json", args->json, "Print JSON instead of a table");
    cmd->callback([args, &state] { run_evaluate(*args, state); });
}

} // namespace impasto::cli
