// Expanding a spec into its runs: content x style x every grid axis, options resolved.
#include "impasto/error.h"
#include "impasto/study.h"
#include "study/spec_settings.h"

#include <algorithm>

namespace impasto {
namespace {

constexpr std::size_t kMaxRuns = 10000;

bool is_planner_key(const std::string& key) {
    return key == "preset" || key == "model" || key == "alpha_beta";
}

} // namespace

std::vector<StudyRun> plan_study(const StudySpec& spec) {
    const std::string name = spec.file.filename().string();
    std::size_t combinations = 1;
    for (const GridAxis& axis : spec.grid) {
        combinations *= axis.values.size();
        if (combinations * spec.contents.size() * spec.styles.size() > kMaxRuns) {
            throw ConfigError(name + ":" + std::to_string(axis.line) + ": the grid has more than " +
                              std::to_string(kMaxRuns) + " runs; split the study");
        }
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
    return runs;
}

} // namespace impasto
