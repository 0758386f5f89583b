#pragma once
// `impasto models measure`: how well a trained model does, measured on images it names and written
// into its model card (ModelQuality in style_model_file.h), the tensors left as they are.
//
// Decoders: decode(encode(x)) against x, exactly `impasto stylize x x --method adain --alpha 0
// --levels LEVEL --size SIZE` then `impasto evaluate OUT --reference x` (8-bit output, PSNR and edge
// ratio), over every image given. Transformer and StyleBank networks: for each style and photo, the
// Gatys losses of `impasto evaluate` (fp32 VGG19) of the network's output and of the optimisation's
// (the default preset at the same size and precision), and their ratios network / optimisation.
#include "impasto/model.h"
#include "impasto/style_model_file.h"
#include "impasto/stylize.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace impasto {

struct MeasureOptions {
    // Decoders: images (files, or folders of them) to reconstruct. Empty: every image of
    // shared_dir/images/style and shared_dir/images/content.
    std::vector<std::filesystem::path> images;
    // Style models: photos (files, or folders of them) to stylise. Empty: three of
    // shared_dir/images/content (kDefaultMeasurePhotos first), preferring photos the model's card
    // does not list in its training data.
    std::vector<std::filesystem::path> photos;
    // Where each style's image is looked for by name (its sha256 must match the card), after the
    // paths in the card's training options. Empty: shared_dir/images/style.
    std::vector<std::filesystem::path> style_dirs;
    std::filesystem::path shared_dir;            // the reference images (../shared); only for the defaults above
    int size = 512;                              // long side of every output, and of the scoring; 32..kMaxImageSide
    Precision precision = Precision::Fp32;       // of the networks and the optimisation; the scorer is fp32
    std::int64_t max_pixels = kDefaultMaxPixels; // decode limit of every image read
    bool write = true;                           // false: measure and return, leave the file alone
    void validate() const;                       // throws ConfigError naming the field
};

// The photos a style model is measured on by default, in order of preference: the paper's photo
// (a town by a river), a face, and saturated colours (flowers and shutters).
inline const std::vector<std::string> kDefaultMeasurePhotos{"tubingen.jpg", "kodim04.png", "kodim07.png"};
inline constexpr std::size_t kDefaultMeasurePhotoCount = 3;

enum class MeasureStage {
    Model,      // a model file is loaded; its measurement starts
    Optimizing, // the optimisation reference runs (`optimization` is its own event)
    Row,        // one image (decoder) or one style on one photo is measured (`row`)
    Finished    // a model is measured (`quality`), and written unless options.write is false
};

struct MeasureEvent {
    MeasureStage stage = MeasureStage::Model;
    std::filesystem::path model;
    StyleModelKind kind = StyleModelKind::Decoder;
    int model_index = 0; // 0-based, of model_count
    int model_count = 0;
    int row = 0;                                 // rows finished for this model
    int rows = 0;                                // rows this model has: images, or styles x photos
    std::string label;                           // "kodim07.png", "starry_night on kodim07.png"
    const QualityRow* measured = nullptr;        // Row: the row just measured
    const ModelQuality* quality = nullptr;       // Finished
    const ProgressEvent* optimization = nullptr; // Optimizing
    double elapsed_seconds = 0;                  // since measure_models began
};
// Return false to stop: nothing more is measured, and the model in progress is not written.
using MeasureCallback = std::function<bool(const MeasureEvent&)>;

struct MeasureResult {
    std::filesystem::path model;
    StyleModelKind kind = StyleModelKind::Decoder;
    ModelQuality quality;
    bool written = false;
    bool cancelled = false;
};

// `vgg` is the encoder of the decoders, the optimisation's loss network and the scorer (its
// device runs everything). An optimisation reference is made once per photo, style image, size and
// precision, and shared by every model given. Throws ConfigError (options, a decoder made for other
// encoder weights), InputError (a model, image or style image that cannot be read or found),
// ResourceError, OutputError (the file cannot be written, or changed while it was measured).
std::vector<MeasureResult> measure_models(const FeatureModel& vgg, const std::vector<std::filesystem::path>& models,
                                          const MeasureOptions& options, const MeasureCallback& on_event = {});

} // namespace impasto
