#pragma once
// Feature layer names of the backbones a weight set can hold.
//
// VGG: Gatys et al. name Caffe blobs "conv4_2"; Caffe's ReLU runs in place, so those blobs hold
// post-ReLU values: the paper's conv4_2 is our relu4_2.
//
// EfficientNet-Lite0 (Tan & Le 2019, the Lite variant: ReLU6, no squeeze-excitation): "stem",
// then for each of the 16 MBConv blocks k "block<k>_expand" (the 1x1 expansion after ReLU6; not in
// block 1), "block<k>_dw" (the depthwise convolution after ReLU6) and "block<k>" (the linear
// projection plus the residual), then "head" (1x1 to 1280 channels after ReLU6). It has no pooling
// layers, so the pooling option does not apply to it.
#include <string>
#include <vector>

namespace impasto {

enum class Architecture { Vgg19, Vgg16, EfficientNetLite0 };
using VggArchitecture = Architecture; // the name from before EfficientNet-Lite0

// "vgg19", "vgg16", "efficientnet-lite0": the spelling of weight manifests and --model options.
const char* architecture_name(Architecture architecture);
// Throws ConfigError naming the known architectures.
Architecture parse_architecture(const std::string& name);
const std::vector<Architecture>& known_architectures();
// Whether the network has pooling layers that Pooling::Max/Average can switch (VGG only).
bool has_pooling_layers(Architecture architecture);

// conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ... relu5_4, pool5 (VGG19).
const std::vector<std::string>& layer_names(Architecture architecture = Architecture::Vgg19);
// Index in layer_names(), or -1 when unknown.
int layer_index(const std::string& name, Architecture architecture = Architecture::Vgg19);
// Channels of a layer's output; throws ConfigError for an unknown name.
int layer_channels(const std::string& name, Architecture architecture = Architecture::Vgg19);
// Spatial downsampling of a layer's output relative to the input (1, 2, 4, 8, 16, 32).
int layer_stride(const std::string& name, Architecture architecture = Architecture::Vgg19);
// Throws ConfigError "unknown layer 'x' in <what>; known layers: ..." for unknown names.
void check_layer_names(const std::vector<std::string>& names, const std::string& what,
                       Architecture architecture = Architecture::Vgg19);
// Before a model is chosen: each name must belong to at least one architecture.
void check_layer_names_any(const std::vector<std::string>& names, const std::string& what);

// The layers a run uses when it names none, per backbone. VGG: the paper's relu4_2 and
// relu1_1 ... relu5_1. EfficientNet-Lite0: see layers.cpp for the reasoning.
std::vector<std::string> default_content_layers(Architecture architecture);
std::vector<std::string> default_style_layers(Architecture architecture);

} // namespace impasto
