#pragma once
// The engine parameters a study spec may set, each with the value kind it takes and how it
// changes StylizeOptions. One table serves [base], [grid], the planner and the docs.
#include "impasto/study.h"
#include "study/spec_tree.h"

#include <string>

namespace impasto::study {

struct ParameterKey {
    const char* name;
    SpecValue::Kind kind;
    const char* help;
};

// Every key, in documentation order.
const std::vector<ParameterKey>& parameter_table();
// nullptr for an unknown key.
const ParameterKey* find_parameter(const std::string& key);
// "a, b, c": for "unknown key" messages.
std::string known_parameter_list();

// Converts a node to the key's value kind; throws ConfigError "NAME:LINE: key: ..." when the
// type or range is wrong, or a layer name is unknown.
SpecValue to_spec_value(const ParameterKey& key, const SpecNode& node, const std::string& name);

// Applies one setting. `preset` and `model` are handled by the planner, `alpha_beta` needs the
// final content weight: callers apply it last. Throws ConfigError with the line.
void apply_setting(StylizeOptions& options, const SpecSetting& setting, const std::string& name);

} // namespace impasto::study
