#pragma once
// impasto's own file format for trained feed-forward models (".impasto"): a safetensors container
// whose metadata holds a format tag, a JSON config (what network to build) and a JSON model card
// (how it was trained). Torch-free, so tools can read and list models without LibTorch.
//
// Metadata keys: "format" = "impasto.style-model", "format_version" = "1", "config" (JSON object,
// always has "kind"), "card" (JSON object, the ModelCard fields below).
#include "impasto/raw_tensor.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace impasto {

inline constexpr const char* kStyleModelExtension = ".impasto";

enum class StyleModelKind {
    Transformer, // Johnson et al. transformer net, one style or several (conditional instance norm)
    Decoder,     // a VGG19 decoder inverting one relu layer (arbitrary style: AdaIN / WCT)
    StyleBank    // Chen et al. 2017: a shared auto-encoder and one filter bank per style
};
const char* to_string(StyleModelKind kind);                     // "transformer", "decoder", "stylebank"
StyleModelKind parse_style_model_kind(const std::string& text); // throws ConfigError

struct StyleImageRecord {
    std::string name;   // file stem, used as the style's name ("starry_night")
    std::string sha256; // of the image file
};

// One training session of a model trained in several, each starting from the model file the one
// before wrote (`impasto train ... --init MODEL`).
struct TrainingStretch {
    std::int64_t first_step = 0; // steps done before it
    std::int64_t last_step = 0;  // steps done after it
    double wall_seconds = 0;
    int crop = 0;
    int batch = 0;
    double learning_rate = 0;
    std::string hardware;
    std::string finished_utc;
};

// How well a model does, measured after training by `impasto models measure` (see model_measure.h)
// on images it names, so that a figure can be reproduced and compared across models and versions.
// Figure names are lower_snake_case ("reconstruction_psnr_db", "style_loss_ratio"); values are finite.
using QualityFigures = std::map<std::string, double>;

// One evaluation image (decoders), or one style on one photo (transformer, stylebank).
struct QualityRow {
    std::string image;             // the file's name ("kodim07.png")
    std::string group;             // the name of its folder ("content", "style")
    std::string style;             // style models: the style's name; empty for decoders
    bool seen_in_training = false; // the image lies in a folder the model was trained on
    QualityFigures figures;
};

struct StyleQuality {
    std::string name;       // as in the card's style_images
    QualityFigures figures; // summary over the photos, for this style
};

struct ModelQuality {
    QualityFigures figures;           // the summary (over every style for a multi-style model)
    std::vector<StyleQuality> styles; // style models: one per style, in style order
    std::vector<QualityRow> rows;     // every measurement the summary is made of
    std::string evaluation;           // the evaluation set in words: "8 style + 13 content images at 512 px ..."
    std::string reference;            // style models: what the ratios are relative to
    std::string worst;                // the row with the worst figure, in words
    int size = 0;                     // long side, in px, the images were measured at
    std::string precision;            // of the networks ("bf16"); the scorer is always fp32
    std::string hardware;
    double wall_seconds = 0;    // the measurement's own time
    std::string tensors_sha256; // of the tensors measured (tensors_sha256()): tells when figures are stale
    std::string measured_utc;   // ISO 8601
    std::string impasto_version;
};

// Bounds a card's quality record must keep, on write and on read.
inline constexpr std::size_t kMaxQualityFigures = 64; // per map
inline constexpr std::size_t kMaxQualityStyles = 256; // styles of one model
inline constexpr std::size_t kMaxQualityRows = 2048;  // styles x photos, or decoder images
inline constexpr std::size_t kMaxQualityName = 64;    // figure names
inline constexpr std::size_t kMaxQualityText = 4096;  // evaluation, reference, worst, hardware...

// Model-card fields: enough to say what a model is, what it was trained on and how well.
struct ModelCard {
    std::string training_data;                  // "BSDS500 train+test+val (500 photos) + 13 content photos"
    std::string data_license;                   // "BSDS500: research use only (see its README)"
    std::vector<StyleImageRecord> style_images; // transformer, stylebank: one per style, in style order
    std::int64_t iterations = 0;                // optimiser steps done
    std::int64_t images_seen = 0;
    double wall_seconds = 0;                    // training time, summed over resumed sessions
    std::string hardware;                       // "cpu: AMD EPYC ... (2 threads, bf16)"
    std::map<std::string, double> final_losses; // "content", "style", "tv", "total", "pixel", "feature"...
    std::string training_options;               // the training options as a JSON object
    std::string command;                        // the command line that trained it
    std::string created_utc;                    // ISO 8601
    std::string impasto_version;
    std::string notes;
    std::vector<TrainingStretch> stretches; // in order; their steps and seconds sum to the totals above
    std::optional<ModelQuality> quality;    // absent until measured (and in files written before it existed)
};

struct StyleModelFile {
    StyleModelKind kind = StyleModelKind::Transformer;
    std::string config; // JSON object; "kind" is added on write and checked on read
    ModelCard card;
    TensorMap tensors;
};

// Writes atomically. Float tensors are stored as `storage` (Float16 or Float32); others unchanged.
// Throws OutputError, or ConfigError for a storage dtype other than F16/F32.
void write_style_model(const std::filesystem::path& file, const StyleModelFile& model, DType storage = DType::Float16);
// Throws InputError (missing, not an impasto model, bad config or card JSON) naming the file.
// Tensors keep their stored dtype; RawTensor::to_float() widens F16.
StyleModelFile read_style_model(const std::filesystem::path& file);

// Sets the quality record of a model file's card (removes it for nullopt), atomically. Every other
// field of the card, the other metadata and the tensors are kept as they are (byte for byte:
// tensors are written in name order, as write_style_model does). With `expected_tensors_sha256`
// non-empty, refuses (OutputError) a file whose tensors no longer hash to it: the model changed
// since it was measured. Throws InputError (not a model file, or a card that does not read),
// ConfigError (a record out of bounds), OutputError.
void write_model_quality(const std::filesystem::path& file, const std::optional<ModelQuality>& quality,
                         const std::string& expected_tensors_sha256 = {});

// SHA-256 over every tensor's name, dtype, shape and bytes, in name order: the weights' identity,
// independent of the metadata beside them.
std::string tensors_sha256(const TensorMap& tensors);

// Throws ConfigError naming the field when `quality` is out of the bounds above: a non-finite or
// badly named figure, too many rows, too long a text. write_style_model and write_model_quality call it.
void validate_quality(const ModelQuality& quality);

// The quality record as the card stores it: a JSON object (pretty-printed), for `models measure --json`.
std::string describe_quality(const ModelQuality& quality);

// One short line for listings: "32.7 dB" (decoders), "style 6.3x content 1.1x" (style models).
std::string quality_summary(const ModelQuality& quality);

// The card and config as a JSON object (pretty-printed), for `impasto models show` and the studio.
std::string describe_style_model(const StyleModelFile& model);

// Where named models are looked up: $IMPASTO_MODELS_DIR, else the source tree's models/ folder when
// it exists (the committed models), else $XDG_DATA_HOME/impasto/models (~/.local/share/...).
std::filesystem::path default_models_dir();
// A path that exists is taken as is; otherwise NAME is looked up as <dir>/NAME.impasto (and
// <dir>/*/NAME.impasto). Throws InputError listing the models in `dir` when nothing matches.
std::filesystem::path resolve_style_model(const std::string& name_or_path, const std::filesystem::path& dir);

// IEEE float32 -> float16 bits, round to nearest even; overflow gives inf, NaN stays NaN, tiny values
// become subnormals or zero. Used for F16 storage; exposed for tests and the weight tools.
std::uint16_t float_to_half(float value);

} // namespace impasto
