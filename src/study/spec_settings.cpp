#include "study/spec_settings.h"

#include "impasto/error.h"
#include "impasto/layers.h"

#include <cmath>
#include <cstdio>

namespace impasto::study {
namespace {

using Kind = SpecValue::Kind;

const char* kind_name(Kind kind) {
    switch (kind) {
    case Kind::Number:
        return "a number";
    case Kind::String:
        return "a string";
    case Kind::Bool:
        return "true or false";
    case Kind::NumberList:
        return "a list of numbers";
    case Kind::StringList:
        return "a list of strings";
    }
    return "?";
}

[[noreturn]] void fail(const std::string& name, int line, const std::string& key, const std::string& what) {
    throw ConfigError(name + ":" + std::to_string(line) + ": " + key + ": " + what);
}

// Keys whose number must be a whole number, with their range. The range is checked here, before
// the value is converted to an int (a cast of 1e30 would be undefined); validate() checks it again.
struct IntegerRule {
    const char* key;
    double minimum;
    double maximum;
};
constexpr IntegerRule kIntegerKeys[] = {{"size", 16, kMaxImageSide},
                                        {"iterations", 0, kMaxIterations},
                                        {"seed", 0, 9007199254740992.0}, // 2^53: every integer up to it is exact
                                        {"lbfgs_history", 1, kMaxLbfgsHistory}};

bool is_layer_key(const std::string& key) {
    return key == "content_layers" || key == "style_layers";
}

std::string number_label(double number) {
    SpecValue value;
    value.number = number;
    return value.label();
}

// Whether the name is a layer of some backbone; the planner checks it against each run's model.
bool is_known_layer_name(const std::string& layer) {
    for (const Architecture architecture : known_architectures()) {
        if (layer_index(layer, architecture) >= 0) {
            return true;
        }
    }
    return false;
}

} // namespace

const std::vector<ParameterKey>& parameter_table() {
    static const std::vector<ParameterKey> table{
        {"preset", Kind::String, "named preset the run starts from (default, paper)"},
        {"model", Kind::String, "weight set, e.g. vgg19.caffe, vgg19.caffe-normalised"},
        {"size", Kind::Number, "long side of the output"},
        {"iterations", Kind::Number, "iterations at the final scale"},
        {"schedule", Kind::String, "coarse-to-fine steps like 256:150,512:50, or none for one scale"},
        {"seed", Kind::Number, "seed of the noise"},
        {"init", Kind::String, "noise, content, style"},
        {"noise_stddev", Kind::Number, "spread of the starting noise"},
        {"content_layers", Kind::StringList, "layers of eq. 1"},
        {"style_layers", Kind::StringList, "layers of eq. 3"},
        {"style_layer_weights", Kind::NumberList, "w_l of eq. 3, one per style layer"},
        {"content_weight", Kind::Number, "alpha of eq. 4"},
        {"style_weight", Kind::Number, "beta of eq. 4"},
        {"alpha_beta", Kind::Number, "the ratio alpha/beta of Gatys Fig. 3; sets beta = alpha / ratio"},
        {"tv_weight", Kind::Number, "total-variation weight"},
        {"loss_scaling", Kind::String, "paper or normalized"},
        {"pooling", Kind::String, "max or avg"},
        {"optimizer", Kind::String, "lbfgs or adam"},
        {"lbfgs_history", Kind::Number, "L-BFGS history size"},
        {"line_search", Kind::Bool, "strong Wolfe line search"},
        {"learning_rate", Kind::Number, "L-BFGS step"},
        {"adam_learning_rate", Kind::Number, "Adam step"},
        {"style_scale", Kind::Number, "style image size relative to the content"},
        {"color", Kind::String, "none, luminance, histogram"},
        {"precision", Kind::String, "fp32 or bf16"},
    };
    return table;
}

const ParameterKey* find_parameter(const std::string& key) {
    for (const ParameterKey& entry : parameter_table()) {
        if (key == entry.name) {
            return &entry;
        }
    }
    return nullptr;
}

std::string known_parameter_list() {
    std::string out;
    for (const ParameterKey& entry : parameter_table()) {
        out += (out.empty() ? "" : ", ") + std::string(entry.name);
    }
    return out;
}

SpecValue to_spec_value(const ParameterKey& key, const SpecNode& node, const std::string& name) {
    SpecValue value;
    value.kind = key.kind;
    value.line = node.line;
    auto wrong_type = [&] {
        fail(name, node.line, key.name,
             std::string("expected ") + kind_name(key.kind) + ", got " + type_name(node.type));
    };
    switch (key.kind) {
    case Kind::Number:
        if (node.type != SpecNode::Type::Number) {
            wrong_type();
        }
        value.number = node.number;
        for (const IntegerRule& rule : kIntegerKeys) {
            if (key.name == std::string(rule.key) &&
                (std::floor(node.number) != node.number || node.number < rule.minimum || node.number > rule.maximum)) {
                fail(name, node.line, key.name,
                     "expected a whole number in " + number_label(rule.minimum) + ".." + number_label(rule.maximum) +
                         ", got " + number_label(node.number));
            }
        }
        break;
    case Kind::String:
        if (node.type != SpecNode::Type::String) {
            wrong_type();
        }
        value.text = node.text;
        break;
    case Kind::Bool:
        if (node.type != SpecNode::Type::Bool) {
            wrong_type();
        }
        value.flag = node.flag;
        break;
    case Kind::NumberList:
    case Kind::StringList:
        if (node.type != SpecNode::Type::Array) {
            wrong_type();
        }
        for (const SpecNode& item : node.items) {
            const bool numbers = key.kind == Kind::NumberList;
            if (item.type != (numbers ? SpecNode::Type::Number : SpecNode::Type::String)) {
                wrong_type();
            }
            if (numbers) {
                value.numbers.push_back(item.number);
            } else {
                value.strings.push_back(item.text);
            }
        }
        break;
    }
    if (is_layer_key(key.name)) {
        for (const std::string& layer : value.strings) {
            if (!is_known_layer_name(layer)) {
                fail(name, node.line, key.name, "unknown layer '" + layer + "'; `impasto layers` lists them");
            }
        }
    }
    return value;
}

void apply_setting(StylizeOptions& options, const SpecSetting& setting, const std::string& name) {
    const std::string& key = setting.key;
    const SpecValue& value = setting.value;
    try {
        if (key == "size") {
            options.size = static_cast<int>(value.number);
        } else if (key == "iterations") {
            options.iterations = static_cast<int>(value.number);
        } else if (key == "schedule") {
            options.scales = value.text == "none" ? std::vector<ScaleStep>{} : parse_schedule(value.text);
        } else if (key == "seed") {
            options.seed = static_cast<std::uint64_t>(value.number);
        } else if (key == "init") {
            options.init = parse_init(value.text);
            if (options.init == InitKind::File) {
                throw ConfigError("init = \"file\" is not available in studies; use noise, content or style");
            }
        } else if (key == "noise_stddev") {
            options.noise_stddev = value.number;
        } else if (key == "content_layers") {
            options.content_layers = value.strings;
        } else if (key == "style_layers") {
            options.style_layers = value.strings;
        } else if (key == "style_layer_weights") {
            options.style_layer_weights = value.numbers;
        } else if (key == "content_weight") {
            options.content_weight = value.number;
        } else if (key == "style_weight") {
            options.style_weight = value.number;
        } else if (key == "alpha_beta") {
            if (!(value.number > 0)) {
                throw ConfigError("the ratio alpha/beta must be > 0, got " + value.label());
            }
            options.style_weight = options.content_weight / value.number;
        } else if (key == "tv_weight") {
            options.tv_weight = value.number;
        } else if (key == "loss_scaling") {
            options.loss_scaling = parse_loss_scaling(value.text);
        } else if (key == "pooling") {
            options.pooling = parse_pooling(value.text);
        } else if (key == "optimizer") {
            options.optimizer = parse_optimizer(value.text);
        } else if (key == "lbfgs_history") {
            options.lbfgs_history = static_cast<int>(value.number);
        } else if (key == "line_search") {
            options.lbfgs_line_search = value.flag;
        } else if (key == "learning_rate") {
            options.learning_rate = value.number;
        } else if (key == "adam_learning_rate") {
            options.adam_learning_rate = value.number;
        } else if (key == "style_scale") {
            options.style_scale = value.number;
        } else if (key == "color") {
            options.color = parse_color(value.text);
        } else if (key == "precision") {
            options.precision = parse_precision(value.text);
        }
    } catch (const ConfigError& error) {
        fail(name, value.line, key, error.what());
    }
}

} // namespace impasto::study

namespace impasto {

std::string SpecValue::label() const {
    char buffer[64];
    switch (kind) {
    case SpecValue::Kind::Number:
        if (std::floor(number) == number && std::fabs(number) < 1e7) {
            std::snprintf(buffer, sizeof buffer, "%.0f", number);
        } else {
            std::snprintf(buffer, sizeof buffer, "%g", number);
        }
        return buffer;
    case SpecValue::Kind::String:
        return text;
    case SpecValue::Kind::Bool:
        return flag ? "true" : "false";
    case SpecValue::Kind::NumberList: {
        std::string out;
        for (double value : numbers) {
            std::snprintf(buffer, sizeof buffer, "%g", value);
            out += (out.empty() ? "" : ",") + std::string(buffer);
        }
        return out;
    }
    case SpecValue::Kind::StringList: {
        std::string out;
        for (const std::string& value : strings) {
            out += (out.empty() ? "" : "+") + value;
        }
        return out.empty() ? "(none)" : out;
    }
    }
    return "?";
}

} // namespace impasto
