// Expanding a spec into its runs: content x style x every grid axis, options resolved.
#include "impasto/error.h"
#include "impasto/study.h"
#include "study/spec_settings.h"

#include <algorithm>

namespace impasto {
namespace {

bool is_planner_key(const std::string& key) {
    return key == "preset" || key == "model" || key == "alpha_beta";
}

// contents x styles x every axis, refused as soon as the product passes the cap (so it never overflows).
void check_run_count(const StudySpec& spec, const std::string& name) {
    std::size_t runs = 1;
    const auto multiply = [&](std::size_t factor, int line) {
        if (factor != 0 && runs > kMaxStudyRuns / factor) {
            throw ConfigError(name + ":" + std::to_string(line) + ": the study has more than " +
                              std::to_string(kMaxStudyRuns) +
                              " runs (contents x styles x grid values); split the study");
        }
        runs *= factor;
    };
    multiply(spec.contents.size(), 1);
    multiply(spec.styles.size(), 1);
    for (const GridAxis& axis : spec.grid) {
        multiply(axis.values.size(), axis.line);
    }
}

} // namespace

std::vector<StudyRun> plan_study(const StudySpec& spec) {
    const std::string name = spec.file.filename().string();
    check_run_count(spec, name);
    std::size_t combinations = 1; // within the cap, checked above (unless there is no content or style)
    for (const GridAxis& axis : spec.grid) {
        combinations *= axis.values.size();
    }
    std::vector<StudyRun> runs;
    for (std::size_t c = 0; c < spec.contents.size(); ++c) {
        for (std::size_t s = 0; s < spec.styles.size(); ++s) {
            for (std::size_t combination = 0; combination < combinations; ++combination) {
                StudyRun run;
                run.index = static_cast<int>(runs.size());
                run.content_index = static_cast<int>(c);
                run.style_index = static_cast<int>(s);
                run.axis_values.assign(spec.grid.size(), 0);
                std::size_t rest = combination;
                for (std::size_t a = spec.grid.size(); a-- > 0;) {
                    run.axis_values[a] = static_cast<int>(rest % spec.grid[a].values.size());
                    rest /= spec.grid[a].values.size();
                }
                run.settings = spec.base;
                for (std::size_t a = 0; a < spec.grid.size(); ++a) {
                    run.settings.push_back({spec.grid[a].key, spec.grid[a].values[run.axis_values[a]]});
                }

                std::string preset = spec.preset;
                run.model = spec.model;
                for (const SpecSetting& setting : run.settings) {
                    if (setting.key == "preset") {
                        preset = setting.value.text;
                        const auto& names = preset_names();
                        if (std::find(names.begin(), names.end(), preset) == names.end()) {
                            throw ConfigError(name + ":" + std::to_string(setting.value.line) +
                                              ": preset: unknown preset '" + preset + "'; choose default or paper");
                        }
                    } else if (setting.key == "model") {
                        run.model = setting.value.text;
                    }
                }
                run.options = preset_options(preset);
                for (const SpecSetting& setting : run.settings) {
                    if (!is_planner_key(setting.key)) {
                        study::apply_setting(run.options, setting, name);
                    }
                }
                for (const SpecSetting& setting : run.settings) {
                    if (setting.key == "alpha_beta") {
                        study::apply_setting(run.options, setting, name);
                    }
                }

                run.label = spec.contents[c].stem().string() + " × " + spec.styles[s].stem().string();
                for (std::size_t a = 0; a < spec.grid.size(); ++a) {
                    run.label += ", " + spec.grid[a].key + "=" + spec.grid[a].values[run.axis_values[a]].label();
                }
                try {
                    run.options.validate();
                } catch (const ConfigError& error) {
                    const int line = spec.grid.empty() ? (spec.base.empty() ? 1 : spec.base.front().value.line)
                                                       : spec.grid.front().line;
                    throw ConfigError(name + ":" + std::to_string(line) + ": run " + std::to_string(run.index + 1) +
                                      " (" + run.label + "): " + error.what());
                }
                runs.push_back(std::move(run));
            }
        }
    }
    long long iterations = 0;
    for (const StudyRun& run : runs) {
        for (const ScaleStep& step : run.options.schedule()) {
            iterations += step.iterations;
        }
    }
    if (spec.reconstruction) {
        const ReconstructionSpec& r = *spec.reconstruction;
        iterations += static_cast<long long>(r.content_layers.size() + r.style_layer_sets.size()) * r.iterations;
    }
    if (iterations > kMaxStudyIterations) {
        throw ConfigError(name + ": the study has " + std::to_string(iterations) + " iterations in all, over the " +
                          "limit of " + std::to_string(kMaxStudyIterations) +
                          "; split the study or run fewer iterations");
    }
    return runs;
}

} // namespace impasto
