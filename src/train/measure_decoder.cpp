// `models measure` for decoders: decode(encode(x)) against x, as `impasto stylize x x --method adain
// --alpha 0` then `impasto evaluate --reference x`, over every image given.
#include "impasto/arbitrary_style.h"
#include "impasto/error.h"
#include "impasto/image_metrics.h"
#include "io/sha256.h"
#include "train/measure_inputs.h"
#include "train/measure_session.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace impasto::measure {
namespace fs = std::filesystem;

namespace {

// An identical reconstruction has infinite PSNR; the mean over images must stay a number. 100 dB
// (an RMS error of 1e-5) is far beyond anything an 8-bit image can tell apart from perfect.
constexpr double kMaxPsnrDb = 100;

// A figure name from a folder name: lower case, anything else an underscore, short enough for the card.
std::string figure_suffix(const std::string& name, std::size_t room) {
    std::string out;
    for (const char c : name.substr(0, room)) {
        const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out += (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') ? lower : '_';
    }
    return out;
}

// Rows in, the decoder's summary out.
void summarise_decoder(ModelQuality& quality) {
    std::vector<std::string> groups;
    std::map<std::string, std::vector<double>> by_group;
    double sum = 0;
    double edges = 0;
    const QualityRow* worst = &quality.rows.front();
    for (const QualityRow& row : quality.rows) {
        const double psnr = row.figures.at("psnr_db");
        sum += psnr;
        edges += row.figures.at("edge_ratio");
        if (by_group[row.group].empty()) {
            groups.push_back(row.group);
        }
        by_group[row.group].push_back(psnr);
        if (psnr < worst->figures.at("psnr_db")) {
            worst = &row;
        }
    }
    const auto count = static_cast<double>(quality.rows.size());
    quality.figures["reconstruction_psnr_db"] = sum / count;
    quality.figures["reconstruction_psnr_db_worst"] = worst->figures.at("psnr_db");
    quality.figures["reconstruction_edge_ratio"] = edges / count;
    const std::string prefix = "reconstruction_psnr_db_";
    if (groups.size() > 1) {
        for (const std::string& group : groups) {
            const std::vector<double>& values = by_group[group];
            double group_sum = 0;
            for (const double value : values) {
                group_sum += value;
            }
            const std::string name = prefix + figure_suffix(group, kMaxQualityName - prefix.size());
            if (!group.empty() && name != prefix + "worst" && quality.figures.size() < kMaxQualityFigures) {
                quality.figures[name] = group_sum / static_cast<double>(values.size());
            }
        }
    }
    quality.worst = fmt::format("{}: {:.2f} dB", worst->image, worst->figures.at("psnr_db"));
}

} // namespace

ModelQuality measure_decoder(Session& session, const StyleModelFile& file) {
    const MeasureOptions& options = session.options;
    const nlohmann::json config = nlohmann::json::parse(file.config, nullptr, false);
    const bool has_sha =
        config.is_object() && config.contains("encoder_sha256") && config["encoder_sha256"].is_string();
    const std::string encoder_sha = has_sha ? config["encoder_sha256"].get<std::string>() : std::string();
    if (!encoder_sha.empty() && !session.vgg.info().sha256.empty() && encoder_sha != session.vgg.info().sha256) {
        throw ConfigError(fmt::format("the decoder was trained on encoder weights with sha256 {}..., not the weight "
                                      "set '{}' given ({}...); measure it with the set it was made for (--weights)",
                                      encoder_sha.substr(0, 12), session.vgg.info().name,
                                      session.vgg.info().sha256.substr(0, 12)));
    }
    const auto decoders = DecoderSet::from_files({file}, session.vgg.device());
    const std::string level = decoders->levels().front();
    const std::vector<fs::path> images = reconstruction_images(options);
    if (images.size() > kMaxQualityRows) {
        throw ConfigError(fmt::format("{} images to reconstruct; at most {}", images.size(), kMaxQualityRows));
    }
    const std::vector<fs::path> folders = training_folders(file.card);
    // Paintings a decoder trained on (the AdaIN objective's --style-data) are recorded by content, so an
    // evaluation image is seen when its bytes are one of them, wherever either copy lies.
    std::set<std::string> trained_on;
    for (const StyleImageRecord& record : file.card.style_images) {
        trained_on.insert(record.sha256);
    }
    ArbitraryOptions arbitrary; // `impasto stylize x x --method adain --alpha 0 --levels LEVEL --size SIZE`
    arbitrary.method = TransformMethod::Adain;
    arbitrary.alpha = 0;
    arbitrary.levels = {level};
    arbitrary.size = options.size;
    arbitrary.precision = options.precision;
    arbitrary.max_pixels = options.max_pixels;
    arbitrary.validate();

    ModelQuality quality;
    session.current.rows = static_cast<int>(images.size());
    std::vector<bool> seen;
    for (const fs::path& path : images) {
        const Image image = load(path, options, "image to reconstruct");
        const Image output = as_8_bit(stylize_arbitrary(session.vgg, *decoders, image, {{image, 1.0, {}}}, arbitrary));
        // As `impasto evaluate --reference`: the reference resized to the output's size.
        const Fidelity fidelity = compare_images(output, resize_image(image, output.width, output.height));
        QualityRow row;
        row.image = path.filename().string();
        row.group = folder_name(path);
        row.seen_in_training =
            in_training_data(path, folders) || (!trained_on.empty() && trained_on.count(io::sha256_file_hex(path)) > 0);
        row.figures = {{"psnr_db", std::min(fidelity.psnr_db, kMaxPsnrDb)}, {"edge_ratio", fidelity.edge_ratio}};
        seen.push_back(row.seen_in_training);
        quality.rows.push_back(std::move(row));
        MeasureEvent event;
        event.stage = MeasureStage::Row;
        event.row = static_cast<int>(quality.rows.size());
        event.label = quality.rows.back().image;
        event.measured = &quality.rows.back();
        if (!session.emit(event)) {
            return quality;
        }
    }
    summarise_decoder(quality);
    quality.evaluation = fmt::format("{}; decode(encode(x)) at {} px as `impasto stylize x x --method adain --alpha 0 "
                                     "--levels {}`, written as 8 bits, PSNR against x",
                                     describe_images(images, seen, false, !folders.empty()), options.size, level);
    quality.reference = "each image itself, resized to the output's size (`impasto evaluate --reference`)";
    return quality;
}

} // namespace impasto::measure
