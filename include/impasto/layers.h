#pragma once
// VGG layer names. Gatys et al. name Caffe blobs "conv4_2"; Caffe's ReLU runs in place, so
// those blobs hold post-ReLU values: the paper's conv4_2 is our relu4_2.
#include <string>
#include <vector>

namespace impasto {

enum class VggArchitecture { Vgg19, Vgg16 };

// conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ... relu5_4, pool5 (VGG19).
const std::vector<std::string>& layer_names(VggArchitecture architecture = VggArchitecture::Vgg19);
// Index in layer_names(), or -1 when unknown.
int layer_index(const std::string& name, VggArchitecture architecture = VggArchitecture::Vgg19);
// Channels of a layer's output (64 ... 512); throws ConfigError for an unknown name.
int layer_channels(const std::string& name, VggArchitecture architecture = VggArchitecture::Vgg19);
// Spatial downsampling of a layer's output relative to the input (1, 2, 4, 8, 16, 32).
int layer_stride(const std::string& name, VggArchitecture architecture = VggArchitecture::Vgg19);
// Throws ConfigError "unknown layer 'x' in <what>; known layers: ..." for unknown names.
void check_layer_names(const std::vector<std::string>& names, const std::string& what,
                       VggArchitecture architecture = VggArchitecture::Vgg19);

} // namespace impasto
