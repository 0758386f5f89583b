// `impasto models list` and `impasto models show NAME`: the trained feed-forward models and their cards.
#include "commands.h"
#include "impasto/error.h"
#include "impasto/style_model_file.h"

#include <algorithm>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace impasto::cli {
namespace {

struct ModelsArgs {
    std::string dir;
    std::string name;
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
    for (const fs::path& file : files) {
        try {
            const StyleModelFile model = read_style_model(file);
            std::printf("  %-28s %-11s %6.2fM params  %6lld steps  %s\n",
                        fs::relative(file, dir).replace_extension().c_str(), to_string(model.kind),
                        static_cast<double>(parameter_count(model.tensors)) / 1e6,
                        static_cast<long long>(model.card.iterations), what_it_does(model).c_str());
        } catch (const Error& e) {
            std::printf("  %-28s unreadable: %s\n", fs::relative(file, dir).c_str(), e.what());
        }
    }
}

void run_show(const ModelsArgs& args) {
    const std::filesystem::path file = resolve_style_model(args.name, models_dir(args));
    std::printf("%s\n", describe_style_model(read_style_model(file)).c_str());
}

} // namespace

void setup_models(CLI::App& app, CliState& /*state*/) {
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
}

} // namespace impasto::cli
