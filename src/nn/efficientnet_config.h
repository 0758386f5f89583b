#pragma once
// EfficientNet-Lite0's shape, shared by the weight converter (impasto_io) and the forward pass
// (impasto): torch-free and header-only. Stages as in TensorFlow's efficientnet_lite_builder.py,
// width and depth multipliers 1.0, stem and head not scaled.
#include <array>
#include <string>
#include <vector>

namespace impasto::nn::efficientnet {

struct Stage {
    int expand;  // expansion ratio of the 1x1 convolution (1: none)
    int kernel;  // depthwise kernel size
    int stride;  // of the first block's depthwise convolution
    int out;     // output channels
    int repeats; // blocks in the stage
};

inline constexpr std::array<Stage, 7> kLite0Stages{{{1, 3, 1, 16, 1},
                                                    {6, 3, 2, 24, 2},
                                                    {6, 5, 2, 40, 2},
                                                    {6, 3, 2, 80, 3},
                                                    {6, 5, 1, 112, 3},
                                                    {6, 5, 2, 192, 4},
                                                    {6, 3, 1, 320, 1}}};
inline constexpr int kStemChannels = 32;
inline constexpr int kHeadChannels = 1280;
inline constexpr int kClasses = 1000;
// TensorFlow's batch-norm epsilon, folded into the convolutions at install time.
inline constexpr double kBatchNormEpsilon = 1e-3;

struct Block {
    int number = 0; // 1..16, as in the layer names
    int in = 0, expanded = 0, out = 0, kernel = 0, stride = 1;
    bool residual = false; // stride 1 and in == out
    int input_stride = 1;  // downsampling of the block's input relative to the image
};

inline std::vector<Block> lite0_blocks() {
    std::vector<Block> blocks;
    int in = kStemChannels;
    int stride = 2; // after the stem
    for (const Stage& stage : kLite0Stages) {
        for (int r = 0; r < stage.repeats; ++r) {
            Block block;
            block.number = static_cast<int>(blocks.size()) + 1;
            block.in = in;
            block.expanded = in * stage.expand;
            block.out = stage.out;
            block.kernel = stage.kernel;
            block.stride = r == 0 ? stage.stride : 1;
            block.residual = block.stride == 1 && in == stage.out;
            block.input_stride = stride;
            blocks.push_back(block);
            stride *= block.stride;
            in = stage.out;
        }
    }
    return blocks;
}

struct LayerInfo {
    std::string name;
    int channels;
    int stride;
};

// Every named feature point in network order: stem, block1_dw, block1, block2_expand, ..., head.
inline std::vector<LayerInfo> lite0_layers() {
    std::vector<LayerInfo> layers{{"stem", kStemChannels, 2}};
    int stride = 2;
    for (const Block& block : lite0_blocks()) {
        const std::string name = "block" + std::to_string(block.number);
        if (block.expanded != block.in) {
            layers.push_back({name + "_expand", block.expanded, stride});
        }
        stride *= block.stride;
        layers.push_back({name + "_dw", block.expanded, stride});
        layers.push_back({name, block.out, stride});
    }
    layers.push_back({"head", kHeadChannels, stride});
    return layers;
}

} // namespace impasto::nn::efficientnet
