#pragma once
// The parameters a studio job may set, per method: their kinds, choices and help, their
// defaults read from the library's option structs, and the type checks of submitted values.
#include "server/job_request.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace impasto::studio {

enum class ParamKind { Integer, Number, Text, Numbers, Texts };

struct ParamSpec {
    const char* name;
    ParamKind kind;
    std::vector<std::string> choices; // for Text; empty = free text
    const char* help;
};

const std::vector<ParamSpec>& param_specs(JobMethod method);
// Every parameter of the method with its default; optimisation defaults come from `preset`.
nlohmann::json method_defaults(JobMethod method, const StudioCatalog& catalog, const std::string& preset = "default");
// [{"name", "type", "help", "choices"?}, ...] for GET /api/defaults.
nlohmann::json param_spec_list(JobMethod method);
// Throws StudioError 400 "params.NAME: ..." when the value has the wrong type or is not a choice.
void check_param(const ParamSpec& spec, const nlohmann::json& value);
[[noreturn]] void bad_param(const std::string& name, const std::string& why);

} // namespace impasto::studio
