#include "impasto/layers.h"

#include "impasto/error.h"

#include <array>

namespace impasto {
namespace {

struct BlockShape {
    int convs;
    int channels;
};

constexpr std::array<BlockShape, 5> kVgg19Blocks{{{2, 64}, {2, 128}, {4, 256}, {4, 512}, {4, 512}}};
constexpr std::array<BlockShape, 5> kVgg16Blocks{{{2, 64}, {2, 128}, {3, 256}, {3, 512}, {3, 512}}};

const std::array<BlockShape, 5>& blocks(VggArchitecture architecture) {
    return architecture == VggArchitecture::Vgg19 ? kVgg19Blocks : kVgg16Blocks;
}

std::vector<std::string> build_names(VggArchitecture architecture) {
    std::vector<std::string> names;
    int block_number = 1;
    for (const BlockShape& block : blocks(architecture)) {
        for (int conv = 1; conv <= block.convs; ++conv) {
            const std::string suffix = std::to_string(block_number) + "_" + std::to_string(conv);
            names.push_back("conv" + suffix);
            names.push_back("relu" + suffix);
        }
        names.push_back("pool" + std::to_string(block_number));
        ++block_number;
    }
    return names;
}

int block_of(const std::string& name, VggArchitecture architecture) {
    const int index = layer_index(name, architecture);
    if (index < 0) {
        throw ConfigError("unknown layer '" + name + "'");
    }
    // "conv3_2" -> 3, "pool3" -> 3
    const std::size_t digit = name.find_first_of("0123456789");
    return name[digit] - '0';
}

} // namespace

const std::vector<std::string>& layer_names(VggArchitecture architecture) {
    static const std::vector<std::string> vgg19 = build_names(VggArchitecture::Vgg19);
    static const std::vector<std::string> vgg16 = build_names(VggArchitecture::Vgg16);
    return architecture == VggArchitecture::Vgg19 ? vgg19 : vgg16;
}

int layer_index(const std::string& name, VggArchitecture architecture) {
    const auto& names = layer_names(architecture);
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == name) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

int layer_channels(const std::string& name, VggArchitecture architecture) {
    return blocks(architecture)[block_of(name, architecture) - 1].channels;
}

int layer_stride(const std::string& name, VggArchitecture architecture) {
    const int block = block_of(name, architecture);
    const bool pooled = name.rfind("pool", 0) == 0;
    return 1 << (pooled ? block : block - 1);
}

void check_layer_names(const std::vector<std::string>& names, const std::string& what, VggArchitecture architecture) {
    for (const std::string& name : names) {
        if (layer_index(name, architecture) < 0) {
            std::string known;
            for (const std::string& candidate : layer_names(architecture)) {
                known += (known.empty() ? "" : ", ") + candidate;
            }
            throw ConfigError("unknown layer '" + name + "' in " + what + "; known layers: " + known);
        }
    }
}

} // namespace impasto
