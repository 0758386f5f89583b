// `impasto models list`, `impasto models show NAME` and `impasto models measure MODEL...`: the trained
// feed-forward models, their cards, and the quality figures measured into them.
#include "cli_common.h"
#include "commands.h"
#include "impasto/error.h"
#include "impasto/model_measure.h"
#include "impasto/style_model_file.h"
#include "interrupt.h"
#include "progress_display.h"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace impasto::cli {
namespace {

struct ModelsArgs {
    std::string dir;
    std::string name;
};

struct MeasureArgs {
    std::string dir;
    std::vector<std::string> models;
    std::vector<std::string> images;
    std::vector<std::string> photos;
    std::vector<std::string> style_dirs;
    int size = MeasureOptions{}.size;
    std::string precision = "auto";
    std::string device = "auto";
    int threads = 0;
    std::string weights = kDefaultWeightSet;
    bool no_write = false;
    bool json = false;
    bool quiet = false;
};

std::filesystem::path models_dir(const ModelsArgs& args) {
    return args.dir.empty() ? default_models_dir() : std::filesystem::path(args.dir);
}

std::int64_t parameter_count(const TensorMap& tensors) {
    std::int64_t count = 0;
    for (const auto& [name, tensor] : tensors) {
        count += tensor.numel();
    }
    return count;
}

// "starry_night", or "a, b, c" for a multi-style network; a decoder's level.
std::string what_it_does(const StyleModelFile& model) {
    const nlohmann::json config = nlohmann::json::parse(model.config, nullptr, false);
    if (model.kind == StyleModelKind::Decoder) {
        const bool named = config.is_object() && config.contains("level") && config["level"].is_string();
        return "decoder " + (named ? config["level"].get<std::string>() : std::string("?"));
    }
    std::string styles;
    for (const StyleImageRecord& style : model.card.style_images) {
        styles += (styles.empty() ? "" : ", ") + style.name;
    }
    // Shown as written: a listing converts nothing, so a hostile file's numbers cannot overflow a cast.
    const auto shown = [&](const char* key) {
        return config.is_object() && config.contains(key) && config[key].is_number() ? config[key].dump()
                                                                                     : std::string("?");
    };
    if (model.kind == StyleModelKind::StyleBank) {
        return fmt::format("{} bank{} (width {}, {} layers each): {}", model.card.style_images.size(),
                           model.card.style_images.size() == 1 ? "" : "s", shown("width"), shown("bank_layers"),
                           styles);
    }
    return fmt::format("{} style{} (width {}): {}", model.card.style_images.size(),
                       model.card.style_images.size() == 1 ? "" : "s", shown("width"), styles);
}

// The list's quality column: the summary, "(stale)" when the tensors are no longer the ones measured,
// and a "*" when some images were in the model's training data.
std::string quality_column(const StyleModelFile& model, bool& any_seen) {
    if (!model.card.quality) {
        return "-";
    }
    const ModelQuality& quality = *model.card.quality;
    std::string text = quality_summary(quality);
    if (!quality.tensors_sha256.empty() && quality.tensors_sha256 != tensors_sha256(model.tensors)) {
        text += " (stale)";
    }
    if (std::any_of(quality.rows.begin(), quality.rows.end(),
                    [](const QualityRow& row) { return row.seen_in_training; })) {
        text += " *";
        any_seen = true;
    }
    return text;
}

void run_list(const ModelsArgs& args) {
    namespace fs = std::filesystem;
    const fs::path dir = models_dir(args);
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
        for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
            if (entry.is_regular_file() && entry.path().extension() == kStyleModelExtension) {
                files.push_back(entry.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    std::printf("models in %s\n", dir.c_str());
    if (files.empty()) {
        std::printf("  (none; train one with `impasto train style` or `impasto train stylebank`)\n");
        return;
    }
    bool any_seen = false;
    for (const fs::path& file : files) {
        try {
            const StyleModelFile model = read_style_model(file);
            std::printf("  %-28s %-11s %6.2fM params  %6lld steps  %-26s %s\n",
                        fs::relative(file, dir).replace_extension().c_str(), to_string(model.kind),
                        static_cast<double>(parameter_count(model.tensors)) / 1e6,
                        static_cast<long long>(model.card.iterations), quality_column(model, any_seen).c_str(),
                        what_it_does(model).c_str());
        } catch (const Error& e) {
            std::printf("  %-28s unreadable: %s\n", fs::relative(file, dir).c_str(), e.what());
        }
    }
    if (any_seen) {
        std::printf("  * measured partly or wholly on images the model was trained on (`impasto models show`)\n");
    }
}

void run_show(const ModelsArgs& args) {
    const std::filesystem::path file = resolve_style_model(args.name, models_dir(args));
    std::printf("%s\n", describe_style_model(read_style_model(file)).c_str());
}

// The reference images beside the source tree (../shared), or $IMPASTO_SHARED_DIR; empty when neither exists.
std::filesystem::path shared_dir() {
    if (const char* dir = std::getenv("IMPASTO_SHARED_DIR"); dir != nullptr && *dir != '\0') {
        return dir;
    }
    std::error_code ec;
    return std::filesystem::is_directory(IMPASTO_SOURCE_SHARED_DIR, ec)
               ? std::filesystem::path(IMPASTO_SOURCE_SHARED_DIR)
               : std::filesystem::path();
}

// Progress on stderr: a line per measured row; the optimisation reference as `impasto stylize` shows it.
class MeasureProgress {
  public:
    explicit MeasureProgress(bool enabled) : enabled_(enabled), display_(enabled) {}

    void update(const MeasureEvent& event) {
        if (!enabled_) {
            return;
        }
        switch (event.stage) {
        case MeasureStage::Model:
            std::fprintf(stderr, "[model %d/%d] %s (%s)\n", event.model_index + 1, event.model_count,
                         event.model.c_str(), to_string(event.kind));
            break;
        case MeasureStage::Optimizing:
            if (event.label != optimising_) {
                optimising_ = event.label;
                std::fprintf(stderr, "  optimisation reference for %s\n", event.label.c_str());
            }
            display_.update(*event.optimization);
            break;
        case MeasureStage::Row:
            display_.finish();
            std::fprintf(stderr, "  [%d/%d] %s: %s%s\n", event.row, event.rows, event.label.c_str(),
                         row_text(*event.measured).c_str(),
                         event.measured->seen_in_training ? " (seen in training)" : "");
            break;
        case MeasureStage::Finished:
            display_.finish();
            break;
        }
    }

  private:
    static std::string row_text(const QualityRow& row) {
        const auto& f = row.figures;
        if (f.count("psnr_db") != 0) {
            return fmt::format("{:.2f} dB, edge ratio {:.3f}", f.at("psnr_db"), f.at("edge_ratio"));
        }
        const auto ratio = [&](const char* name) {
            return f.count(name) != 0 ? fmt::format("{:.3g}x", f.at(name)) : std::string("?");
        };
        return fmt::format("style {} content {} (style {:.3g} vs {:.3g}, content {:.3g} vs {:.3g})",
                           ratio("style_loss_ratio"), ratio("content_loss_ratio"), f.at("style_loss"),
                           f.at("style_loss_optimisation"), f.at("content_loss"), f.at("content_loss_optimisation"));
    }

    bool enabled_;
    ProgressDisplay display_;
    std::string optimising_;
};

// "reconstruction_psnr_db 32.66, reconstruction_psnr_db_worst 22.73": every figure, four digits.
std::string figures_text(const QualityFigures& figures) {
    std::string text;
    for (const auto& [name, value] : figures) {
        text += fmt::format("{}{} {:.4g}", text.empty() ? "" : ", ", name, value);
    }
    return text.empty() ? "no figures" : text;
}

void run_measure(const MeasureArgs& args, CliState& state) {
    const std::filesystem::path dir = args.dir.empty() ? default_models_dir() : std::filesystem::path(args.dir);
    std::vector<std::filesystem::path> models;
    for (const std::string& name : args.models) {
        models.push_back(resolve_style_model(name, dir));
    }
    MeasureOptions options;
    options.images.assign(args.images.begin(), args.images.end());
    options.photos.assign(args.photos.begin(), args.photos.end());
    options.style_dirs.assign(args.style_dirs.begin(), args.style_dirs.end());
    options.shared_dir = shared_dir();
    options.size = args.size;
    options.write = !args.no_write;
    const Device device = resolve_device(args.device);
    options.precision = resolve_precision(args.precision, device);
    options.validate(); // before the weights load
    set_num_threads(resolve_threads(args.threads));
    const auto vgg = load_model(state, args.weights, device);

    install_interrupt_handlers();
    MeasureProgress progress(!args.quiet);
    const std::vector<MeasureResult> results = measure_models(*vgg, models, options, [&](const MeasureEvent& event) {
        progress.update(event);
        return !interrupt_requested();
    });
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const MeasureResult& result : results) {
        if (result.cancelled) {
            std::fprintf(stderr, "interrupted: %s was not written\n", result.model.c_str());
            state.exit_code = 130;
            continue;
        }
        const ModelQuality& quality = result.quality;
        if (args.json) {
            out.push_back({{"model", result.model.string()},
                           {"kind", to_string(result.kind)},
                           {"written", result.written},
                           {"quality", nlohmann::ordered_json::parse(describe_quality(quality))}});
            continue;
        }
        std::printf("%s: %s\n  %s\n", result.model.c_str(), quality_summary(quality).c_str(),
                    figures_text(quality.figures).c_str());
        for (const StyleQuality& style : quality.styles) {
            std::printf("  %s: %s\n", style.name.c_str(), figures_text(style.figures).c_str());
        }
        std::printf("  on %s\n  worst: %s\n  %.1f s, %s\n", quality.evaluation.c_str(), quality.worst.c_str(),
                    quality.wall_seconds, result.written ? "written into its card" : "not written (--no-write)");
    }
    if (args.json) {
        std::printf("%s\n", out.dump(2).c_str());
    }
}

} // namespace

void setup_models(CLI::App& app, CliState& state) {
    auto args = std::make_shared<ModelsArgs>();
    CLI::App* cmd = app.add_subcommand("models", "List and describe trained feed-forward models (.impasto)");
    cmd->require_subcommand(1);
    const std::string dir_help = "Models folder [default: $IMPASTO_MODELS_DIR, the source tree's models/, or "
                                 "~/.local/share/impasto/models]";
    CLI::App* list = cmd->add_subcommand("list", "Models in the models folder, with their styles and training steps");
    list->add_option("--dir", args->dir, dir_help);
    list->callback([args] { run_list(*args); });
    CLI::App* show = cmd->add_subcommand("show", "A model's config and model card as JSON");
    show->add_option("model", args->name, "Name in the models folder, or a path")->required();
    show->add_option("--dir", args->dir, dir_help);
    show->callback([args] { run_show(*args); });

    auto measure_args = std::make_shared<MeasureArgs>();
    CLI::App* measure = cmd->add_subcommand(
        "measure", "Measure models and write the figures into their cards: decoders by reconstruction PSNR, style "
                   "networks by their style and content loss relative to the optimisation's");
    measure->add_option("models", measure_args->models, "Names in the models folder, or paths")->required();
    measure->add_option("--dir", measure_args->dir, dir_help);
    measure->add_option("--images", measure_args->images,
                        "Decoders: images or folders of images to reconstruct [default: SHARED/images/style and "
                        "SHARED/images/content; SHARED = $IMPASTO_SHARED_DIR or the source tree's ../shared]");
    measure->add_option("--content", measure_args->photos,
                        "Style models: photos or folders of photos to stylise [default: 3 of SHARED/images/content, "
                        "tubingen.jpg, kodim04.png, kodim07.png first, preferring ones not in the training data]");
    measure->add_option("--styles", measure_args->style_dirs,
                        "Style models: folders holding the style images, found by name and checked by sha256 "
                        "[default: the paths in the card's training options, then SHARED/images/style]");
    measure->add_option("--size", measure_args->size, "Long side of every output and of the scoring, 32..16384")
        ->capture_default_str();
    measure
        ->add_option("--precision", measure_args->precision,
                     "Networks and optimisation: auto (bf16 where the CPU has it natively), fp32 or bf16; the "
                     "scorer is fp32")
        ->capture_default_str();
    measure->add_option("--device", measure_args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    measure->add_option("--threads", measure_args->threads, "CPU threads; 0 = every core")->capture_default_str();
    measure->add_option("--weights", measure_args->weights, "Weight set: encoder, optimisation and scorer")
        ->capture_default_str();
    measure->add_flag("--no-write", measure_args->no_write, "Measure and print; leave the model files alone");
    measure->add_flag("--json", measure_args->json, "Print the quality records as JSON");
    measure->add_flag("-q,--quiet", measure_args->quiet, "No progress on stderr");
    measure->callback([measure_args, &state] { run_measure(*measure_args, state); });
}

} // namespace impasto::cli
