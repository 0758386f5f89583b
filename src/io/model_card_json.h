#pragma once
// The model card <-> the JSON object stored in a model file's "card" metadata field. The card comes
// from a file, so the reader checks every field's type, range and size (InputError naming it).
#include "impasto/style_model_file.h"

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

namespace impasto::io {

nlohmann::ordered_json card_to_json(const ModelCard& card);
// Missing fields keep their defaults, so that cards written by older versions still load.
ModelCard card_from_json(const nlohmann::ordered_json& json);

// The card's "quality" object (model_quality_json.cpp).
nlohmann::ordered_json quality_to_json(const ModelQuality& quality);
ModelQuality quality_from_json(const nlohmann::ordered_json& json);

// object[key] as a finite number in [low, high], `fallback` when the key is absent; otherwise E
// naming `context`, the key and the range. nlohmann refuses a number that overflows a double
// (1e999) while parsing; checking here too keeps a non-finite value out whatever the parser does.
template <class E, class Json>
double finite_field(const Json& object, const char* key, double fallback, double low, double high,
                    const std::string& context) {
    if (!object.is_object() || !object.contains(key)) {
        return fallback;
    }
    const Json& value = object.at(key);
    if (!value.is_number()) {
        throw E(fmt::format("{}: {} must be a number, not {}", context, key, value.type_name()));
    }
    const double number = value.template get<double>();
    if (!std::isfinite(number) || number < low || number > high) {
        throw E(fmt::format("{}: {} = {} is out of range; allowed: a finite number {}..{}", context, key, number, low,
                            high));
    }
    return number;
}

} // namespace impasto::io
