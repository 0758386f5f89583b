// `impasto layers`: the layer names runs can use, with channels, stride and preset roles.
#include "commands.h"
#include "impasto/layers.h"
#include "impasto/stylize_options.h"

#include <algorithm>
#include <cstdio>
#include <memory>

namespace impasto::cli {

void setup_layers(CLI::App& app, CliState& /*state*/) {
    auto vgg16 = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("layers", "List the VGG layer names with channels, stride and preset roles");
    cmd->add_flag("--vgg16", *vgg16, "List VGG16's layers instead of VGG19's");
    cmd->callback([vgg16] {
        const VggArchitecture architecture = *vgg16 ? VggArchitecture::Vgg16 : VggArchitecture::Vgg19;
        const StylizeOptions def = preset_options("default");
        auto contains = [](const std::vector<std::string>& list, const std::string& name) {
            return std::find(list.begin(), list.end(), name) != list.end();
        };
        std::printf("%-9s %8s %6s  %s\n", "layer", "channels", "stride", "role in presets");
        for (const std::string& name : layer_names(architecture)) {
            std::string role;
            if (contains(def.content_layers, name)) {
                role += "content ";
            }
            if (contains(def.style_layers, name)) {
                role += "style";
            }
            std::printf("%-9s %8d %6d  %s\n", name.c_str(), layer_channels(name, architecture),
                        layer_stride(name, architecture), role.c_str());
        }
        std::printf("\nGatys et al. name Caffe blobs conv4_2 etc.; Caffe's in-place ReLU makes those post-ReLU,\n"
                    "so the paper's conv4_2 is relu4_2 here. Both presets use the paper's layers.\n");
    });
}

} // namespace impasto::cli
