// `impasto layers`: the layer names runs can use, with channels, stride and default roles.
#include "commands.h"
#include "impasto/layers.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

namespace impasto::cli {
namespace {

struct LayersArgs {
    std::string model = architecture_name(Architecture::Vgg19);
    bool vgg16 = false;
};

void run_layers(const LayersArgs& args) {
    const Architecture architecture = args.vgg16 ? Architecture::Vgg16 : parse_architecture(args.model);
    const std::vector<std::string> content = default_content_layers(architecture);
    const std::vector<std::string> style = default_style_layers(architecture);
    auto contains = [](const std::vector<std::string>& list, const std::string& name) {
        return std::find(list.begin(), list.end(), name) != list.end();
    };
    int width = 9;
    for (const std::string& name : layer_names(architecture)) {
        width = std::max(width, static_cast<int>(name.size()) + 1);
    }
    std::printf("%s\n%-*s %8s %6s  %s\n", architecture_name(architecture), width, "layer", "channels", "stride",
                "default role");
    for (const std::string& name : layer_names(architecture)) {
        std::string role;
        if (contains(content, name)) {
            role += "content ";
        }
        if (contains(style, name)) {
            role += "style";
        }
        std::printf("%-*s %8d %6d  %s\n", width, name.c_str(), layer_channels(name, architecture),
                    layer_stride(name, architecture), role.c_str());
    }
    if (architecture == Architecture::EfficientNetLite0) {
        std::printf("\nblock<k>_expand and block<k>_dw are after ReLU6 (0..6); block<k> is the linear projection\n"
                    "plus the residual (signed). There are no pooling layers: --pooling does not apply.\n"
                    "Its presets still name VGG layers: pass --content-layers and --style-layers, e.g.\n"
                    "  --content-layers block5_expand --style-layers stem,block2_expand,block2_dw,block4_dw,"
                    "block6_dw\n");
    } else {
        std::printf("\nGatys et al. name Caffe blobs conv4_2 etc.; Caffe's in-place ReLU makes those post-ReLU,\n"
                    "so the paper's conv4_2 is relu4_2 here. Both presets use the paper's layers.\n");
    }
}

} // namespace

void setup_layers(CLI::App& app, CliState& /*state*/) {
    auto args = std::make_shared<LayersArgs>();
    CLI::App* cmd =
        app.add_subcommand("layers", "List a backbone's layer names with channels, stride and default roles");
    std::string models;
    for (Architecture architecture : known_architectures()) {
        models += (models.empty() ? "" : ", ") + std::string(architecture_name(architecture));
    }
    cmd->add_option("--model", args->model, "Backbone: " + models)->capture_default_str();
    cmd->add_flag("--vgg16", args->vgg16, "Same as --model vgg16 (default: off)");
    cmd->callback([args] { run_layers(*args); });
}

} // namespace impasto::cli
