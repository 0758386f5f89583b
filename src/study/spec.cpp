// Reading a study spec: the document's structure, paths and reconstruction section.
#include "impasto/error.h"
#include "impasto/study.h"
#include "io/regular_file.h"
#include "study/spec_settings.h"
#include "study/spec_tree.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace impasto {
namespace {

using study::SpecNode;

class SpecReader {
  public:
    SpecReader(std::filesystem::path file) : file_(std::move(file)), name_(file_.filename().string()) {}

    [[noreturn]] void fail(int line, const std::string& what) const {
        throw ConfigError(name_ + ":" + std::to_string(line) + ": " + what);
    }

    void expect(const SpecNode& node, SpecNode::Type type, const std::string& key) const {
        if (node.type != type) {
            fail(node.line, key + ": expected " + study::type_name(type) + ", got " + study::type_name(node.type));
        }
    }

    std::string string(const SpecNode& node, const std::string& key) const {
        expect(node, SpecNode::Type::String, key);
        return node.text;
    }

    int whole_number(const SpecNode& node, const std::string& key, int minimum, int maximum) const {
        expect(node, SpecNode::Type::Number, key);
        // No cast before the range check: a double outside long long (2e19, inf) makes it undefined.
        if (!node.is_integer && std::trunc(node.number) != node.number) {
            fail(node.line, key + ": expected a whole number");
        }
        if (!(node.number >= minimum && node.number <= maximum)) {
            std::ostringstream shown;
            shown << std::setprecision(17) << node.number;
            fail(node.line,
                 key + ": " + shown.str() + " is outside " + std::to_string(minimum) + ".." + std::to_string(maximum));
        }
        return static_cast<int>(node.number);
    }

    std::vector<std::string> strings(const SpecNode& node, const std::string& key) const {
        if (node.type == SpecNode::Type::String) {
            return {node.text};
        }
        expect(node, SpecNode::Type::Array, key);
        std::vector<std::string> out;
        for (const SpecNode& item : node.items) {
            out.push_back(string(item, key));
        }
        return out;
    }

    // Relative paths resolve against the spec's folder; the file must exist.
    std::filesystem::path image(const std::string& text, int line, const std::string& key) const {
        std::filesystem::path path(text);
        if (path.is_relative()) {
            path = file_.parent_path() / path;
        }
        path = path.lexically_normal();
        std::error_code error;
        if (!std::filesystem::is_regular_file(path, error)) {
            fail(line, key + ": image '" + text + "' is not there (looked for " + path.string() + ")");
        }
        return path;
    }

    std::vector<std::filesystem::path> images(const SpecNode& node, const std::string& key) const {
        std::vector<std::filesystem::path> out;
        for (const std::string& text : strings(node, key)) {
            out.push_back(image(text, node.line, key));
        }
        if (out.empty()) {
            fail(node.line, key + ": the list is empty");
        }
        return out;
    }

    void unknown(const std::string& key, int line, const std::string& where, const std::string& known) const {
        fail(line,
             "unknown key '" + key + "'" + (where.empty() ? "" : " in [" + where + "]") + "; known keys: " + known);
    }

    std::vector<SpecSetting> settings(const SpecNode& table, const std::string& where) const {
        expect(table, SpecNode::Type::Table, where);
        std::vector<SpecSetting> out;
        for (const auto& [key, node] : table.members) {
            const study::ParameterKey* parameter = study::find_parameter(key);
            if (parameter == nullptr) {
                unknown(key, node.line, where, study::known_parameter_list());
            }
            out.push_back({key, study::to_spec_value(*parameter, node, name_)});
        }
        return out;
    }

    std::vector<GridAxis> grid(const SpecNode& table) const {
        expect(table, SpecNode::Type::Table, "grid");
        std::vector<GridAxis> out;
        for (const auto& [key, node] : table.members) {
            const study::ParameterKey* parameter = study::find_parameter(key);
            if (parameter == nullptr) {
                unknown(key, node.line, "grid", study::known_parameter_list());
            }
            if (node.type != SpecNode::Type::Array) {
                fail(node.line, "grid." + key + ": expected a list of values to try");
            }
            if (node.items.empty()) {
                fail(node.line, "grid." + key + ": the list of values is empty");
            }
            GridAxis axis{key, node.line, {}};
            for (SpecNode item : node.items) {
                if (item.line == 0) {
                    item.line = node.line;
                }
                axis.values.push_back(study::to_spec_value(*parameter, item, name_));
            }
            out.push_back(std::move(axis));
        }
        return out;
    }

    ReconstructionSpec reconstruction(const SpecNode& table) const {
        expect(table, SpecNode::Type::Table, "reconstruct");
        ReconstructionSpec spec;
        for (const auto& [key, node] : table.members) {
            if (key == "content") {
                spec.content = image(string(node, key), node.line, "reconstruct.content");
            } else if (key == "style") {
                spec.style = image(string(node, key), node.line, "reconstruct.style");
            } else if (key == "content_layers") {
                spec.content_layers = layers(node, "reconstruct.content_layers");
                check_count(node, spec.content_layers.size(), "reconstruct.content_layers");
            } else if (key == "style_layer_sets") {
                expect(node, SpecNode::Type::Array, key);
                check_count(node, node.items.size(), "reconstruct.style_layer_sets");
                spec.style_layer_sets.clear();
                for (const SpecNode& set : node.items) {
                    spec.style_layer_sets.push_back(layers(set, "reconstruct.style_layer_sets"));
                    check_count(set, spec.style_layer_sets.back().size(), "reconstruct.style_layer_sets",
                                kMaxLayerEntries);
                }
            } else if (key == "feature_layer") {
                spec.feature_layer = layers(node, "reconstruct.feature_layer").at(0);
            } else if (key == "feature_count") {
                spec.feature_count = whole_number(node, key, 1, 256);
            } else if (key == "size") {
                spec.size = whole_number(node, key, 16, 4096);
            } else if (key == "iterations") {
                spec.iterations = whole_number(node, key, 1, 100000);
            } else if (key == "seed") {
                spec.seed = static_cast<std::uint64_t>(whole_number(node, key, 0, 2147483647));
            } else {
                unknown(key, node.line, "reconstruct",
                        "content, style, content_layers, style_layer_sets, feature_layer, feature_count, size, "
                        "iterations, seed");
            }
        }
        return spec;
    }

    // Each reconstruction runs up to 100000 iterations, each layer of a set adds a Gram matrix.
    void check_count(const SpecNode& node, std::size_t count, const std::string& key,
                     std::size_t limit = kMaxReconstructionLayers) const {
        if (count > limit) {
            fail(node.line,
                 key + ": " + std::to_string(count) + " entries is over the limit of " + std::to_string(limit));
        }
    }

    std::vector<std::string> layers(const SpecNode& node, const std::string& key) const {
        const study::ParameterKey& parameter = *study::find_parameter("style_layers");
        if (node.type == SpecNode::Type::String) {
            SpecNode list;
            list.type = SpecNode::Type::Array;
            list.line = node.line;
            list.items.push_back(node);
            return study::to_spec_value(parameter, list, name_).strings;
        }
        try {
            return study::to_spec_value(parameter, node, name_).strings;
        } catch (const ConfigError& error) {
            // Name the reconstruct key rather than the generic parameter.
            std::string what = error.what();
            const std::string generic = ": style_layers: ";
            const std::size_t at = what.find(generic);
            if (at != std::string::npos) {
                what.replace(at, generic.size(), ": " + key + ": ");
            }
            throw ConfigError(what);
        }
    }

    StudySpec read(const SpecNode& root) const {
        StudySpec spec;
        spec.file = file_;
        const SpecNode* contents = nullptr;
        const SpecNode* styles = nullptr;
        for (const auto& [key, node] : root.members) {
            if (key == "title") {
                spec.title = string(node, key);
            } else if (key == "description") {
                spec.description = string(node, key);
            } else if (key == "contents") {
                contents = &node;
            } else if (key == "styles") {
                styles = &node;
            } else if (key == "preset") {
                spec.preset = string(node, key);
                const auto& names = preset_names();
                if (std::find(names.begin(), names.end(), spec.preset) == names.end()) {
                    fail(node.line, "preset: unknown preset '" + spec.preset + "'; choose default or paper");
                }
            } else if (key == "model") {
                spec.model = string(node, key);
            } else if (key == "base") {
                spec.base = settings(node, "base");
            } else if (key == "grid") {
                spec.grid = grid(node);
            } else if (key == "report") {
                read_report(node, spec);
            } else if (key == "evaluation") {
                expect(node, SpecNode::Type::Table, key);
                for (const auto& [inner, value] : node.members) {
                    if (inner != "size") {
                        unknown(inner, value.line, "evaluation", "size");
                    }
                    spec.evaluation_size = whole_number(value, "evaluation.size", 16, 4096);
                }
            } else if (key == "reconstruct") {
                spec.reconstruction = reconstruction(node);
            } else {
                unknown(key, node.line, "",
                        "title, description, contents, styles, preset, model, base, grid, report, evaluation, "
                        "reconstruct");
            }
        }
        if (contents == nullptr || styles == nullptr) {
            fail(1, std::string("missing '") + (contents == nullptr ? "contents" : "styles") +
                        "': list the images to use, relative to the spec's folder");
        }
        spec.contents = images(*contents, "contents");
        spec.styles = images(*styles, "styles");
        if (spec.title.empty()) {
            spec.title = file_.stem().string();
        }
        check_matrix(spec);
        return spec;
    }

    void read_report(const SpecNode& node, StudySpec& spec) const {
        expect(node, SpecNode::Type::Table, "report");
        for (const auto& [key, value] : node.members) {
            if (key != "matrix") {
                unknown(key, value.line, "report", "matrix");
            }
            spec.matrix = strings(value, "report.matrix");
            matrix_line_ = value.line;
        }
    }

    void check_matrix(const StudySpec& spec) const {
        if (spec.matrix.empty()) {
            return;
        }
        if (spec.matrix.size() != 2) {
            fail(matrix_line_, "report.matrix: name exactly two grid keys (rows, columns)");
        }
        for (const std::string& key : spec.matrix) {
            const bool found =
                std::any_of(spec.grid.begin(), spec.grid.end(), [&](const GridAxis& axis) { return axis.key == key; });
            if (!found) {
                fail(matrix_line_, "report.matrix: '" + key + "' is not a key of [grid]");
            }
        }
    }

  private:
    std::filesystem::path file_;
    std::string name_;
    mutable int matrix_line_ = 1;
};

} // namespace

const std::vector<std::string>& StudySpec::parameter_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> out;
        for (const study::ParameterKey& entry : study::parameter_table()) {
            out.emplace_back(entry.name);
        }
        return out;
    }();
    return keys;
}

StudySpec parse_study_spec(const std::string& text, SpecFormat format, const std::filesystem::path& file) {
    const std::string name = file.filename().string();
    const SpecNode root =
        format == SpecFormat::Json ? study::parse_json_tree(text, name) : study::parse_toml_tree(text, name);
    return SpecReader(file).read(root);
}

StudySpec load_study_spec(const std::filesystem::path& file) {
    // Read only when regular (a FIFO or a device never ends), and refused before it is read when
    // over the cap: the parsers check the text again, this keeps a huge file out of memory.
    std::string text;
    try {
        text = io::read_regular_file(file, study::kMaxSpecBytes);
    } catch (const InputError& e) {
        throw ConfigError("study spec '" + file.string() + "' cannot be read: " + e.what());
    }
    const std::string extension = file.extension().string();
    SpecFormat format = SpecFormat::Toml;
    if (extension == ".json") {
        format = SpecFormat::Json;
    } else if (extension != ".toml") {
        throw ConfigError("study spec '" + file.string() + "': use a .toml or .json file");
    }
    return parse_study_spec(text, format, std::filesystem::absolute(file));
}

} // namespace impasto
