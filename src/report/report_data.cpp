// The study's numbers for other tools: runs.csv (one row per run, RFC 4180) and study.json
// (the spec, every run with its full loss history, the reconstructions, machine and times).
#include "gatys/loss_history_json.h"
#include "impasto/run_record.h"
#include "impasto/study_report.h"
#include "report/csv.h"
#include "report/study_index.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto {

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
        return text;
    }
    std::string quoted = "\"";
    for (const char c : text) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

namespace {

using Json = nlohmann::ordered_json;

void csv_row(std::string& out, const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        out += (i == 0 ? "" : ",") + csv_field(fields[i]);
    }
    out += "\r\n";
}

std::string number(double value) {
    return std::isfinite(value) ? fmt::format("{}", value) : std::string{};
}

Json spec_value_json(const SpecValue& value) {
    switch (value.kind) {
    case SpecValue::Kind::String:
        return value.text;
    case SpecValue::Kind::Bool:
        return value.flag;
    case SpecValue::Kind::NumberList:
        return value.numbers;
    case SpecValue::Kind::StringList:
        return value.strings;
    case SpecValue::Kind::Number:
        break;
    }
    return value.number;
}

Json paths_json(const std::vector<std::filesystem::path>& paths) {
    Json list = Json::array();
    for (const auto& path : paths) {
        list.push_back(path.string());
    }
    return list;
}

Json spec_json(const StudySpec& spec) {
    Json json;
    json["file"] = spec.file.string();
    json["title"] = spec.title;
    json["description"] = spec.description;
    json["contents"] = paths_json(spec.contents);
    json["styles"] = paths_json(spec.styles);
    json["preset"] = spec.preset;
    json["model"] = spec.model;
    json["base"] = Json::array();
    for (const SpecSetting& setting : spec.base) {
        json["base"].push_back(
            {{"key", setting.key}, {"value", spec_value_json(setting.value)}, {"label", setting.value.label()}});
    }
    json["grid"] = Json::array();
    for (const GridAxis& axis : spec.grid) {
        Json values = Json::array();
        for (const SpecValue& value : axis.values) {
            values.push_back({{"value", spec_value_json(value)}, {"label", value.label()}});
        }
        json["grid"].push_back({{"key", axis.key}, {"values", std::move(values)}});
    }
    json["evaluation_size"] = spec.evaluation_size;
    json["matrix"] = spec.matrix;
    if (spec.reconstruction) {
        const ReconstructionSpec& r = *spec.reconstruction;
        json["reconstruction"] = {{"content", r.content.string()},
                                  {"style", r.style.string()},
                                  {"content_layers", r.content_layers},
                                  {"style_layer_sets", r.style_layer_sets},
                                  {"feature_layer", r.feature_layer},
                                  {"feature_count", r.feature_count},
                                  {"size", r.size},
                                  {"iterations", r.iterations},
                                  {"seed", r.seed}};
    } else {
        json["reconstruction"] = nullptr;
    }
    return json;
}

Json run_json(const StudyRunResult& result, const report::StudyIndex& index) {
    const StudyRun& run = result.run;
    Json json;
    json["index"] = run.index;
    json["label"] = run.label;
    json["content_index"] = run.content_index;
    json["style_index"] = run.style_index;
    json["content"] = index.content_path(run.content_index).string();
    json["style"] = index.style_path(run.style_index).string();
    json["model"] = run.model;
    Json grid = Json::object();
    for (std::size_t a = 0; a < index.axes().size(); ++a) {
        const GridAxis& axis = index.axes()[a];
        const int v = report::StudyIndex::value_of(result, a);
        grid[axis.key] = v >= 0 && v < static_cast<int>(axis.values.size()) ? Json(axis.values[v].label()) : Json();
    }
    json["grid"] = std::move(grid);
    json["axis_values"] = run.axis_values;
    json["key"] = result.key;
    json["image"] = result.image.string();
    json["cached"] = result.cached;
    json["width"] = result.width;
    json["height"] = result.height;
    json["iterations_done"] = result.iterations_done;
    json["wall_seconds"] = result.wall_seconds;
    json["peak_memory_bytes"] = result.peak_memory_bytes;
    if (report::has_evaluation(result)) {
        json["evaluation"] = {{"content_loss", result.evaluation.content_loss},
                              {"style_loss", result.evaluation.style_loss},
                              {"width", result.evaluation.width},
                              {"height", result.evaluation.height}};
    } else {
        json["evaluation"] = nullptr;
    }
    Json options = Json::parse(options_json(run.options), nullptr, false);
    json["options"] = options.is_discarded() ? Json() : std::move(options);
    json["history"] = loss_history_json(result.history);
    return json;
}

} // namespace

std::string study_runs_csv(const StudyResults& results) {
    const report::StudyIndex index(results);
    static const std::vector<std::string> kFixed{"index", "label", "content", "style", "model"};
    std::vector<std::string> header = kFixed;
    std::vector<std::size_t> axis_columns; // the model axis is the "model" column already
    for (std::size_t a = 0; a < index.axes().size(); ++a) {
        const std::string& key = index.axes()[a].key;
        if (key == "model") {
            continue;
        }
        axis_columns.push_back(a);
        header.push_back(std::find(kFixed.begin(), kFixed.end(), key) == kFixed.end() ? key : "grid_" + key);
    }
    for (const char* name : {"width", "height", "iterations_done", "wall_seconds", "peak_memory_bytes", "eval_content",
                             "eval_style", "final_total", "final_content", "final_style", "cached", "key", "image"}) {
        header.emplace_back(name);
    }
    std::string out;
    csv_row(out, header);
    for (const StudyRunResult& result : results.runs) {
        const StudyRun& run = result.run;
        std::vector<std::string> row{std::to_string(run.index), run.label,
                                     index.content_path(run.content_index).string(),
                                     index.style_path(run.style_index).string(), run.model};
        for (const std::size_t a : axis_columns) {
            const GridAxis& axis = index.axes()[a];
            const int v = report::StudyIndex::value_of(result, a);
            row.push_back(v >= 0 && v < static_cast<int>(axis.values.size()) ? axis.values[v].label() : "");
        }
        const bool has_eval = report::has_evaluation(result);
        const LossValues* last = result.history.empty() ? nullptr : &result.history.back().losses;
        for (std::string field :
             {std::to_string(result.width), std::to_string(result.height), std::to_string(result.iterations_done),
              number(result.wall_seconds), std::to_string(result.peak_memory_bytes),
              has_eval ? number(result.evaluation.content_loss) : "",
              has_eval ? number(result.evaluation.style_loss) : "", last != nullptr ? number(last->total) : "",
              last != nullptr ? number(last->content) : "", last != nullptr ? number(last->style) : "",
              std::string(result.cached ? "1" : "0"), result.key, result.image.string()}) {
            row.push_back(std::move(field));
        }
        csv_row(out, row);
    }
    return out;
}

std::string study_results_json(const StudyResults& results) {
    const report::StudyIndex index(results);
    Json json;
    json["format"] = "impasto-study";
    json["version"] = 1;
    json["spec"] = spec_json(results.spec);
    json["machine"] = results.machine;
    json["generated_at"] = results.generated_at;
    json["total_seconds"] = results.total_seconds;
    json["runs_executed"] = results.runs_executed;
    json["complete"] = results.complete;
    json["planned_runs"] = index.planned_runs();
    json["runs"] = Json::array();
    for (const StudyRunResult& result : results.runs) {
        json["runs"].push_back(run_json(result, index));
    }
    json["reconstructions"] = Json::array();
    for (const ReconstructionImage& image : results.reconstructions) {
        json["reconstructions"].push_back({{"kind", image.kind},
                                           {"label", image.label},
                                           {"layers", image.layers},
                                           {"image", image.image.string()},
                                           {"final_loss", image.final_loss},
                                           {"wall_seconds", image.wall_seconds}});
    }
    return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace impasto
