// Writes the seed corpora (fuzz/corpus/<target>/seed-*) and the dictionaries generated from the code
// (fuzz/dict/job_request.dict, fuzz/dict/study_spec.dict). Run by fuzz/make_seeds.sh; the output is
// committed. Seeds are small valid inputs of each format, so the fuzzers start past the headers.
#include "impasto/layers.h"
#include "impasto/safetensors.h"
#include "impasto/study.h"
#include "impasto/style_model_file.h"
#include "impasto/stylize_options.h"
#include "io/torch_legacy.h"
#include "io/zip_reader.h"
#include "server/job_params.h"
#include "server/job_request.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>
#include <vector>
#include <zlib.h>

namespace {

namespace fs = std::filesystem;
using impasto::DType;
using impasto::RawTensor;
using impasto::TensorMap;
using nlohmann::json;

// One line of a libFuzzer dictionary: the bytes quoted, with \\, \" and \xNN escapes.
std::string dict_entry(const std::string& bytes) {
    std::string line = "\"";
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\\' || c == '"') {
            line += '\\';
            line += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
            char escaped[5];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
            line += escaped;
        } else {
            line += c;
        }
    }
    return line + "\"";
}

void write(const fs::path& file, const std::string& bytes) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
}

RawTensor tensor(DType dtype, std::vector<std::int64_t> shape) {
    RawTensor t;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.bytes.resize(static_cast<std::size_t>(t.numel()) * impasto::dtype_size(dtype));
    for (std::size_t i = 0; i < t.bytes.size(); ++i) {
        t.bytes[i] = static_cast<std::uint8_t>(i * 37 + 11);
    }
    return t;
}

std::vector<TensorMap> tensor_maps() {
    return {
        {{"block1_conv1_b", tensor(DType::Float32, {4})}},
        {{"w", tensor(DType::Float32, {2, 3})}, {"q", tensor(DType::UInt8, {2, 1, 3, 3})}},
        {{"half", tensor(DType::Float16, {3, 2})},
         {"bf", tensor(DType::BFloat16, {5})},
         {"step", tensor(DType::Int64, {1})},
         {"empty", tensor(DType::Float32, {0, 4})}},
    };
}

void put_le(std::string& out, std::uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xffU);
    }
}

std::string raw_deflate(const std::string& data) {
    z_stream stream{};
    deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

// The members of `zip` again, each deflated (method 8), as torch.save writes some archives and as
// wheels are: the seeds then reach the reader's inflate path, not only stored members.
std::string deflated_copy(const std::string& zip) {
    const impasto::io::ZipArchive archive(zip, "seed");
    std::string out;
    std::string central;
    std::uint32_t count = 0;
    for (const std::string& name : archive.member_names()) {
        const std::string data = archive.read(name);
        const std::string packed = raw_deflate(data);
        const auto crc = static_cast<std::uint32_t>(
            crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
        const auto offset = static_cast<std::uint32_t>(out.size());
        std::string fields; // version needed, flags, method, time, date, crc, sizes, name length
        put_le(fields, 20, 2);
        put_le(fields, 0, 2);
        put_le(fields, 8, 2);
        put_le(fields, 0, 4);
        put_le(fields, crc, 4);
        put_le(fields, static_cast<std::uint32_t>(packed.size()), 4);
        put_le(fields, static_cast<std::uint32_t>(data.size()), 4);
        put_le(fields, static_cast<std::uint32_t>(name.size()), 2);
        out += std::string("PK\x03\x04", 4) + fields;
        put_le(out, 0, 2); // extra length
        out += name + packed;
        central += std::string("PK\x01\x02", 4);
        put_le(central, 20, 2); // version made by
        central += fields;
        put_le(central, 0, 4); // extra and comment lengths
        put_le(central, 0, 4); // disk, internal attributes
        put_le(central, 0, 4); // external attributes
        put_le(central, offset, 4);
        central += name;
        ++count;
    }
    const auto central_offset = static_cast<std::uint32_t>(out.size());
    out += central + std::string("PK\x05\x06", 4);
    put_le(out, 0, 4); // disk numbers
    put_le(out, count, 2);
    put_le(out, count, 2);
    put_le(out, static_cast<std::uint32_t>(central.size()), 4);
    put_le(out, central_offset, 4);
    put_le(out, 0, 2); // comment length
    return out;
}

void torch_seeds(const fs::path& corpus) {
    int n = 0;
    for (const TensorMap& map : tensor_maps()) {
        write(corpus / "torch_legacy" / ("seed-" + std::to_string(n)), impasto::io::serialize_torch_legacy(map));
        const std::string zip = impasto::io::serialize_torch_zip(map, n == 0 ? "vgg19" : "archive");
        write(corpus / "torch_zip" / ("seed-" + std::to_string(n)), zip);
        write(corpus / "torch_zip" / ("seed-deflated-" + std::to_string(n)), deflated_copy(zip));
        write(
            corpus / "safetensors" / ("seed-" + std::to_string(n)),
            impasto::serialize_safetensors(map, n == 1 ? impasto::StringMap{{"format", "pt"}} : impasto::StringMap{}));
        ++n;
    }
}

void style_model_seeds(const fs::path& corpus) {
    const fs::path scratch = fs::temp_directory_path() / "impasto-fuzz-seed.impasto";
    impasto::StyleModelFile model;
    model.kind = impasto::StyleModelKind::Transformer;
    model.config = R"({"width": 0.5, "styles": ["starry_night"]})";
    model.card.training_data = "seed";
    model.card.style_images = {{"starry_night", std::string(64, 'a')}};
    model.card.iterations = 10;
    model.card.final_losses = {{"content", 1.5}, {"style", 2.0}};
    model.card.training_options = R"({"lr": 0.001})";
    model.tensors = {{"conv1.weight", RawTensor::from_float({2, 3, 1, 1}, {1, 2, 3, 4, 5, 6})},
                     {"conv1.bias", RawTensor::from_float({2}, {0.5F, -0.5F})}};
    impasto::write_style_model(scratch, model, DType::Float16);
    write(corpus / "style_model" / "seed-transformer", impasto::read_file_bytes(scratch));
    model.kind = impasto::StyleModelKind::Decoder;
    model.config = R"({"level": "relu3_1", "input_scale": 0.25})";
    model.card = {};
    impasto::write_style_model(scratch, model, DType::Float32);
    write(corpus / "style_model" / "seed-decoder", impasto::read_file_bytes(scratch));
    // A measured card (`impasto models measure`), so that mutations reach the quality record's reader.
    impasto::ModelQuality quality;
    quality.figures = {{"reconstruction_psnr_db", 32.5}, {"reconstruction_psnr_db_worst", 22.75}};
    quality.styles = {{"starry_night", {{"style_loss_ratio", 6.25}}}};
    quality.rows = {{"kodim01.png", "content", "", false, {{"psnr_db", 33.5}, {"edge_ratio", 0.875}}}};
    quality.evaluation = "seed";
    quality.size = 512;
    quality.wall_seconds = 1.5;
    quality.tensors_sha256 = impasto::tensors_sha256(model.tensors);
    quality.impasto_version = "0.1.0";
    model.card.quality = quality;
    impasto::write_style_model(scratch, model, DType::Float32);
    write(corpus / "style_model" / "seed-decoder-quality", impasto::read_file_bytes(scratch));
    fs::remove(scratch);
}

std::string encode(const cv::Mat& image, const std::string& ext, const std::vector<int>& params = {}) {
    std::vector<std::uint8_t> bytes;
    cv::imencode(ext, image, bytes, params);
    return {bytes.begin(), bytes.end()};
}

// A 12x9 gradient (not square, so a transposed decode shows) of `type`.
cv::Mat gradient(int type) {
    cv::Mat image(9, 12, type);
    const int channels = image.channels();
    for (int y = 0; y < image.rows; ++y) {
        for (int x = 0; x < image.cols; ++x) {
            for (int c = 0; c < channels; ++c) {
                const double value = (x * 20 + y * 25 + c * 60) % 256 / 255.0;
                switch (image.depth()) {
                case CV_8U:
                    image.ptr<std::uint8_t>(y)[x * channels + c] = static_cast<std::uint8_t>(value * 255);
                    break;
                case CV_16U:
                    image.ptr<std::uint16_t>(y)[x * channels + c] = static_cast<std::uint16_t>(value * 65535);
                    break;
                default:
                    image.ptr<float>(y)[x * channels + c] = static_cast<float>(value);
                }
            }
        }
    }
    return image;
}

// The JPEG with an APP1 Exif segment saying "rotate 90" (orientation 6), which the decoder applies.
std::string exif_rotated(const std::string& jpeg) {
    const std::string tiff = std::string("II*\0\x08\0\0\0", 8) + std::string("\x01\0", 2) + // one IFD entry
                             std::string("\x12\x01\x03\0\x01\0\0\0\x06\0\0\0", 12) + std::string(4, '\0');
    const std::string payload = std::string("Exif\0\0", 6) + tiff;
    const std::size_t length = payload.size() + 2;
    const std::string segment =
        std::string("\xff\xe1", 2) + static_cast<char>(length >> 8) + static_cast<char>(length & 0xff) + payload;
    return jpeg.substr(0, 2) + segment + jpeg.substr(2);
}

void image_seeds(const fs::path& corpus) {
    const fs::path dir = corpus / "image";
    write(dir / "seed-rgb.png", encode(gradient(CV_8UC3), ".png"));
    write(dir / "seed-rgba.png", encode(gradient(CV_8UC4), ".png"));
    write(dir / "seed-grey16.png", encode(gradient(CV_16UC1), ".png"));
    write(dir / "seed-rgb.jpg", encode(gradient(CV_8UC3), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 80}));
    write(dir / "seed-grey.jpg", encode(gradient(CV_8UC1), ".jpg"));
    write(dir / "seed-progressive.jpg", encode(gradient(CV_8UC3), ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
    write(dir / "seed-exif-rotated.jpg", exif_rotated(encode(gradient(CV_8UC3), ".jpg")));
    write(dir / "seed-rgb.bmp", encode(gradient(CV_8UC3), ".bmp"));
    write(dir / "seed-rgb.tif", encode(gradient(CV_8UC3), ".tif"));
    write(dir / "seed-grey16.tif", encode(gradient(CV_16UC1), ".tif"));
    write(dir / "seed-float.tif", encode(gradient(CV_32FC3), ".tif"));
    write(dir / "seed-lossy.webp", encode(gradient(CV_8UC3), ".webp", {cv::IMWRITE_WEBP_QUALITY, 50}));
    write(dir / "seed-lossless-alpha.webp", encode(gradient(CV_8UC4), ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}));
}

void job_request_seeds(const fs::path& corpus, const fs::path& dicts) {
    using namespace impasto::studio;
    StudioCatalog catalog;
    catalog.models = {{"starry_scream", {"starry_night", "the_scream"}, "/nonexistent/starry_scream.impasto"}};
    catalog.decoder_levels = {"relu1_1", "relu2_1", "relu3_1", "relu4_1"};
    const fs::path dir = corpus / "job_request";
    const json optimisation = method_defaults(JobMethod::Optimisation, catalog);
    write(dir / "seed-optimisation-full",
          json{{"method", "optimisation"}, {"content", "c1"}, {"styles", {"s1"}}, {"params", optimisation}}.dump());
    write(dir / "seed-optimisation-small",
          R"({"method":"optimisation","content":"c1","styles":["s1","s2"],"params":{"preset":"paper","size":64,)"
          R"("iterations":5,"style_blend":[0.25,0.75],"schedule":"64:2,128:3"},"parent":"job-1"})");
    write(dir / "seed-fast",
          json{{"method", "fast"}, {"content", "c1"}, {"params", method_defaults(JobMethod::Fast, catalog)}}.dump());
    write(dir / "seed-fast-blend",
          R"({"method":"fast","content":"c1","params":{"model":"starry_scream","style_weights":[1,2],"size":256}})");
    write(dir / "seed-arbitrary", json{{"method", "arbitrary"},
                                       {"content", "c1"},
                                       {"styles", {"s1", "s2"}},
                                       {"params", method_defaults(JobMethod::Arbitrary, catalog)}}
                                      .dump());
    write(dir / "seed-arbitrary-wct",
          R"({"method":"arbitrary","content":"c1","styles":["s1"],"params":{"transform":"wct","alpha":0.5,)"
          R"("levels":["relu1_1","relu4_1"],"style_size":128}})");

    std::set<std::string> words = {"method", "content",      "styles", "params",
                                   "parent", "optimisation", "fast",   "arbitrary"};
    for (const JobMethod method : {JobMethod::Optimisation, JobMethod::Fast, JobMethod::Arbitrary}) {
        for (const ParamSpec& spec : param_specs(method)) {
            words.insert(spec.name);
            words.insert(spec.choices.begin(), spec.choices.end());
        }
    }
    std::ofstream dict(dicts / "job_request.dict");
    dict << "# Generated by fuzz/make_seeds.sh from the studio's parameter table: keys, choices, methods.\n";
    for (const std::string& word : words) {
        dict << dict_entry(json(word).dump()) << "\n"; // as a JSON string, quotes included
    }
    for (const char* token : {"null", "true", "false", "1e308", "-1", "0.5", "18446744073709551615", "[]", "{}"}) {
        dict << dict_entry(token) << "\n";
    }
}

void study_spec_seeds(const fs::path& corpus, const fs::path& dicts) {
    const std::vector<std::pair<std::string, std::string>> toml = {
        {"minimal", "contents = [\"content.jpg\"]\nstyles = [\"style.jpg\"]\n"},
        {"grid", R"(title = "seeds"
contents = ["content.jpg", "photos/a.png"]
styles = ["style.jpg", "style2.png"]
preset = "paper"
model = "vgg19.caffe"

[base]
size = 64
iterations = 3

[grid]
seed = [1, 2]
style_weight = [1e2, 1e4]
style_layers = [["relu1_1"], ["relu1_1", "relu2_1"]]

[report]
matrix = ["seed", "style_weight"]

[evaluation]
size = 128
)"},
        {"reconstruct", R"(contents = "content.jpg"
styles = ["style.jpg"]
[base]
content_layers = ["relu2_2"]
init = "content"
[reconstruct]
size = 32
iterations = 2
content_layers = ["relu1_2", "relu4_2"]
style_layer_sets = [["relu1_1"], ["relu1_1", "relu2_1"]]
feature_layer = "relu3_1"
feature_count = 4
)"},
    };
    for (const auto& [name, text] : toml) {
        write(corpus / "study_spec_toml" / ("seed-" + name), text);
    }
    write(corpus / "study_spec_json" / "seed-minimal", R"({"contents": ["content.jpg"], "styles": ["style.jpg"]})");
    write(corpus / "study_spec_json" / "seed-grid",
          R"({"title": "seeds", "contents": ["content.jpg"], "styles": ["style.jpg", "style2.png"],
  "preset": "default", "base": {"size": 64, "iterations": 3, "tv_weight": 0},
  "grid": {"seed": [1, 2], "content_layers": [["relu4_2"], ["relu2_2"]]},
  "report": {"matrix": ["seed", "content_layers"]},
  "reconstruct": {"size": 32, "iterations": 2, "feature_count": 2}}
)");

    std::set<std::string> words = {"title",
                                   "description",
                                   "contents",
                                   "styles",
                                   "preset",
                                   "model",
                                   "base",
                                   "grid",
                                   "report",
                                   "matrix",
                                   "evaluation",
                                   "reconstruct",
                                   "content",
                                   "style",
                                   "content_layers",
                                   "style_layer_sets",
                                   "feature_layer",
                                   "feature_count",
                                   "size",
                                   "iterations",
                                   "seed",
                                   "[base]",
                                   "[grid]",
                                   "[report]",
                                   "[reconstruct]",
                                   "[evaluation]",
                                   "content.jpg",
                                   "style.jpg",
                                   "style2.png",
                                   "photos/a.png",
                                   "true",
                                   "false",
                                   "inf",
                                   "nan",
                                   "1e9",
                                   "\"\"\"",
                                   "= [",
                                   "[[",
                                   "]]"};
    for (const std::string& key : impasto::StudySpec::parameter_keys()) {
        words.insert(key);
    }
    for (const std::string& layer : impasto::layer_names()) {
        words.insert(layer);
    }
    for (const std::string& preset : impasto::preset_names()) {
        words.insert(preset);
    }
    std::ofstream dict(dicts / "study_spec.dict");
    dict << "# Generated by fuzz/make_seeds.sh: spec keys, parameter keys, VGG19 layer names and presets.\n";
    for (const std::string& word : words) {
        dict << dict_entry(word) << "\n";
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FUZZ_FOLDER (writes FUZZ_FOLDER/corpus/*/seed-* and FUZZ_FOLDER/dict)\n",
                     argv[0]);
        return 2;
    }
    const fs::path root = argv[1];
    const fs::path corpus = root / "corpus";
    fs::create_directories(root / "dict");
    torch_seeds(corpus);
    style_model_seeds(corpus);
    image_seeds(corpus);
    job_request_seeds(corpus, root / "dict");
    study_spec_seeds(corpus, root / "dict");
    return 0;
}
