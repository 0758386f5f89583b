#include "impasto/layers.h"

#include "impasto/error.h"
#include "nn/efficientnet_config.h"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace impasto {
namespace {

struct BlockShape {
    int convs;
    int channels;
};

constexpr std::array<BlockShape, 5> kVgg19Blocks{{{2, 64}, {2, 128}, {4, 256}, {4, 512}, {4, 512}}};
constexpr std::array<BlockShape, 5> kVgg16Blocks{{{2, 64}, {2, 128}, {3, 256}, {3, 512}, {3, 512}}};

struct LayerTable {
    std::vector<std::string> names;
    std::unordered_map<std::string, int> index;
    std::vector<int> channels;
    std::vector<int> strides;

    void add(const std::string& name, int channel_count, int stride) {
        index[name] = static_cast<int>(names.size());
        names.push_back(name);
        channels.push_back(channel_count);
        strides.push_back(stride);
    }
};

LayerTable build_vgg(const std::array<BlockShape, 5>& blocks) {
    LayerTable table;
    int block_number = 1;
    for (const BlockShape& block : blocks) {
        const int stride = 1 << (block_number - 1);
        for (int conv = 1; conv <= block.convs; ++conv) {
            const std::string suffix = std::to_string(block_number) + "_" + std::to_string(conv);
            table.add("conv" + suffix, block.channels, stride);
            table.add("relu" + suffix, block.channels, stride);
        }
        table.add("pool" + std::to_string(block_number), block.channels, stride * 2);
        ++block_number;
    }
    return table;
}

LayerTable build_efficientnet_lite0() {
    LayerTable table;
    for (const auto& layer : nn::efficientnet::lite0_layers()) {
        table.add(layer.name, layer.channels, layer.stride);
    }
    return table;
}

const LayerTable& table(Architecture architecture) {
    static const LayerTable vgg19 = build_vgg(kVgg19Blocks);
    static const LayerTable vgg16 = build_vgg(kVgg16Blocks);
    static const LayerTable lite0 = build_efficientnet_lite0();
    switch (architecture) {
    case Architecture::Vgg16:
        return vgg16;
    case Architecture::EfficientNetLite0:
        return lite0;
    case Architecture::Vgg19:
        break;
    }
    return vgg19;
}

int require_index(const std::string& name, Architecture architecture) {
    const int index = layer_index(name, architecture);
    if (index < 0) {
        throw ConfigError("unknown layer '" + name + "' for " + architecture_name(architecture));
    }
    return index;
}

std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) {
        text += (text.empty() ? "" : ", ") + name;
    }
    return text;
}

} // namespace

const char* architecture_name(Architecture architecture) {
    switch (architecture) {
    case Architecture::Vgg16:
        return "vgg16";
    case Architecture::EfficientNetLite0:
        return "efficientnet-lite0";
    case Architecture::Vgg19:
        break;
    }
    return "vgg19";
}

const std::vector<Architecture>& known_architectures() {
    static const std::vector<Architecture> all{Architecture::Vgg19, Architecture::Vgg16,
                                               Architecture::EfficientNetLite0};
    return all;
}

Architecture parse_architecture(const std::string& name) {
    std::string known;
    for (Architecture architecture : known_architectures()) {
        if (name == architecture_name(architecture)) {
            return architecture;
        }
        known += (known.empty() ? "" : ", ") + std::string(architecture_name(architecture));
    }
    throw ConfigError("unknown architecture '" + name + "' (known: " + known + ")");
}

bool has_pooling_layers(Architecture architecture) {
    return architecture != Architecture::EfficientNetLite0;
}

const std::vector<std::string>& layer_names(Architecture architecture) {
    return table(architecture).names;
}

int layer_index(const std::string& name, Architecture architecture) {
    const auto& index = table(architecture).index;
    const auto found = index.find(name);
    return found == index.end() ? -1 : found->second;
}

int layer_channels(const std::string& name, Architecture architecture) {
    return table(architecture).channels[static_cast<std::size_t>(require_index(name, architecture))];
}

int layer_stride(const std::string& name, Architecture architecture) {
    return table(architecture).strides[static_cast<std::size_t>(require_index(name, architecture))];
}

void check_layer_names(const std::vector<std::string>& names, const std::string& what, Architecture architecture) {
    for (const std::string& name : names) {
        if (layer_index(name, architecture) < 0) {
            throw ConfigError("unknown layer '" + name + "' in " + what + " for " + architecture_name(architecture) +
                              "; known layers: " + joined(layer_names(architecture)));
        }
    }
}

void check_layer_names_any(const std::vector<std::string>& names, const std::string& what) {
    for (const std::string& name : names) {
        const auto& all = known_architectures();
        const bool known =
            std::any_of(all.begin(), all.end(), [&](Architecture a) { return layer_index(name, a) >= 0; });
        if (!known) {
            throw ConfigError("unknown layer '" + name + "' in " + what +
                              "; known layers (vgg19): " + joined(layer_names(Architecture::Vgg19)) +
                              "; `impasto layers --model efficientnet-lite0` lists the other backbone's");
        }
    }
}

// EfficientNet-Lite0 has no stride-1 layer: its first convolution already halves the image. Its
// first activation at each new resolution plays the role of VGG's relu<k>_1 (the first ReLU after
// each pooling): stem (stride 2), block2_dw (4), block4_dw (8), block6_dw (16); block2_expand adds a
// second stride-2 layer with 96 channels, standing in for VGG's two fine layers (relu1_1, relu2_1).
// Content: VGG's relu4_2 has a receptive field of 84 px at stride 8. block5_expand (stride 8,
// 240 channels, after ReLU6) has 67 px, block6_dw 83 px at stride 16; the stride-8 layer keeps
// more of the photo's geometry at the small sizes this backbone runs at.
std::vector<std::string> default_content_layers(Architecture architecture) {
    if (architecture == Architecture::EfficientNetLite0) {
        return {"block5_expand"};
    }
    return {"relu4_2"};
}

std::vector<std::string> default_style_layers(Architecture architecture) {
    if (architecture == Architecture::EfficientNetLite0) {
        return {"stem", "block2_expand", "block2_dw", "block4_dw", "block6_dw"};
    }
    return {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
}

} // namespace impasto
