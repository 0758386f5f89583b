// StyleBank model files: the "stylebank" kind of the .impasto format (see stylebank.h).
#include "impasto/error.h"
#include "nn/model_style_names.h"
#include "nn/stylebank.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto::nn {

StyleModelFile make_stylebank_model_file(StyleBankNetImpl& net, const std::vector<std::string>& style_names,
                                         const ModelCard& card) {
    if (static_cast<int>(style_names.size()) != net.config().styles) {
        throw ConfigError(fmt::format("stylebank model file: {} style names for a net of {} styles", style_names.size(),
                                      net.config().styles));
    }
    auto config = nlohmann::json::parse(net.config().to_json());
    config["style_names"] = style_names;
    StyleModelFile file;
    file.kind = StyleModelKind::StyleBank;
    file.config = config.dump();
    file.card = card;
    file.tensors = net.export_tensors();
    return file;
}

StyleBankNet load_stylebank_net(const StyleModelFile& file, std::vector<std::string>* style_names) {
    if (file.kind != StyleModelKind::StyleBank) {
        throw InputError(fmt::format("the model is a {}, not a stylebank network", to_string(file.kind)));
    }
    const StyleBankConfig config = StyleBankConfig::from_json(file.config);
    std::vector<std::string> names = model_style_names(file, config.styles, "stylebank config");
    // The config comes from the file: it must not make us allocate more than the file holds.
    std::int64_t stored = 0;
    for (const auto& [name, tensor] : file.tensors) {
        stored += tensor.numel();
    }
    if (config.parameter_count() != stored) {
        throw WeightsError(fmt::format("stylebank: the config (width {}, {} styles, {} bank layers) describes {} "
                                       "parameters, the file holds {}",
                                       config.width, config.styles, config.bank_layers, config.parameter_count(),
                                       stored));
    }
    StyleBankNet net(config);
    net->import_tensors(file.tensors);
    net->eval();
    if (style_names != nullptr) {
        *style_names = std::move(names);
    }
    return net;
}

} // namespace impasto::nn
