// Running a study: every planned run not in the cache, then the reconstructions, then the report.
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/reconstruct.h"
#include "impasto/run_record.h"
#include "impasto/study.h"
#include "impasto/study_report.h"
#include "impasto/version.h"
#include "io/sha256.h"
#include "study/run_cache.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>

namespace impasto {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm parts{};
    gmtime_r(&now, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

// Thrown inside the loop when the caller cancels; caught by run_study.
struct Cancelled {};

class StudyRunner {
  public:
    StudyRunner(const StudySpec& spec, const StudyRunOptions& options, const StudyProgressCallback& on_progress)
        : spec_(spec), options_(options), on_progress_(on_progress), store_(options.weights_dir),
          name_(spec.file.filename().string()) {}

    // Fails fast, before any run: every model is installed and every run's layers exist in its model.
    // A run on a backbone other than VGG that names no layers uses that backbone's defaults.
    void check(std::vector<StudyRun>& runs) {
        for (StudyRun& run : runs) {
            const FeatureModel& model = model_for(run.model, run);
            const Architecture architecture = model.architecture();
            if (architecture != Architecture::Vgg19 && architecture != Architecture::Vgg16) {
                if (!sets(run, "content_layers")) {
                    run.options.content_layers = default_content_layers(architecture);
                }
                if (!sets(run, "style_layers")) {
                    run.options.style_layers = default_style_layers(architecture);
                }
            }
            check_layers(run, model);
        }
        if (spec_.reconstruction) {
            const FeatureModel& model = model_for(spec_.model, runs.front());
            const ReconstructionSpec& r = *spec_.reconstruction;
            check_layer_names(r.content_layers, "reconstruct.content_layers", model.architecture());
            for (const auto& set : r.style_layer_sets) {
                check_layer_names(set, "reconstruct.style_layer_sets", model.architecture());
            }
            check_layer_names({r.feature_layer}, "reconstruct.feature_layer", model.architecture());
        }
        evaluator_ = FeatureModel::create(load_weight_set(store_.require(kDefaultWeightSet)), options_.device);
    }

    void run_all(const std::vector<StudyRun>& runs, StudyResults& results) {
        const Clock::time_point start = Clock::now();
        for (const StudyRun& run : runs) {
            results.runs.push_back(run_one(run, static_cast<int>(runs.size()), results, start));
        }
    }

    void reconstruct_all(StudyResults& results) {
        if (!spec_.reconstruction) {
            return;
        }
        const ReconstructionSpec& r = *spec_.reconstruction;
        const FeatureModel& model = *models_.at(spec_.model);
        const std::filesystem::path content_file = r.content.empty() ? spec_.contents.front() : r.content;
        const std::filesystem::path style_file = r.style.empty() ? spec_.styles.front() : r.style;
        ReconstructOptions options;
        options.size = r.size;
        options.iterations = r.iterations;
        options.seed = r.seed;
        options.max_pixels = options_.max_pixels;
        options.validate();
        const int count = static_cast<int>(r.content_layers.size() + r.style_layer_sets.size() + 1);
        int index = 0;
        const Clock::time_point start = Clock::now();
        auto run_cached = [&](const std::string& kind, const std::vector<std::string>& layers,
                              const std::filesystem::path& input, const std::string& label, auto&& make) {
            const std::string engine_options =
                kind == "content" ? options_json(content_reconstruction_options(layers.front(), options))
                : kind == "style" ? options_json(style_reconstruction_options(layers, options))
                                  : std::string();
            const std::string key = reconstruction_key(kind, layers, input, r, engine_options);
            const std::filesystem::path file = options_.output_dir / "reconstructions" / (kind + "-" + key + ".png");
            StudyProgress progress{StudyStage::Reconstruction, index, count, index, false, label, nullptr, 0};
            if (std::optional<ReconstructionImage> cached = study::load_cached_reconstruction(file)) {
                progress.cached = true;
                report(progress, start);
                results.reconstructions.push_back(*cached);
            } else {
                report(progress, start);
                ReconstructionImage record{kind, label, layers, {}, 0, 0};
                const Clock::time_point began = Clock::now();
                const Image image = make(record, [&](const ProgressEvent& event) {
                    StudyProgress inner = progress;
                    inner.inner = &event;
                    return report(inner, start, /*throw_on_cancel=*/false);
                });
                record.wall_seconds = seconds_since(began);
                study::store_reconstruction(image, record, file);
                results.reconstructions.push_back(record);
            }
            ++index;
        };
        const Image& content = image(content_file);
        const Image& style = image(style_file);
        for (const std::string& layer : r.content_layers) {
            run_cached("content", {layer}, content_file, layer, [&](ReconstructionImage& record, auto&& callback) {
                StylizeResult result = reconstruct_content(model, content, layer, options, callback);
                finish_reconstruction(result, options, record);
                return result.image;
            });
        }
        for (const std::vector<std::string>& layers : r.style_layer_sets) {
            const std::string label = layer_set_label(layers);
            run_cached("style", layers, style_file, label, [&](ReconstructionImage& record, auto&& callback) {
                StylizeResult result = reconstruct_style(model, style, layers, options, callback);
                finish_reconstruction(result, options, record);
                return result.image;
            });
        }
        const std::string label = r.feature_layer + ": " + std::to_string(r.feature_count) + " most active channels";
        run_cached("features", {r.feature_layer}, content_file, label,
                   [&](ReconstructionImage& /*record*/, auto&& /*callback*/) {
                       return feature_maps(model, content, r.feature_layer, r.feature_count, r.size, Pooling::Average,
                                           options_.max_pixels)
                           .grid;
                   });
    }

  private:
    static void finish_reconstruction(const StylizeResult& result, const ReconstructOptions& options,
                                      ReconstructionImage& record) {
        if (result.cancelled) {
            throw Cancelled{};
        }
        record.final_loss = final_loss(result, options);
    }

    // Returns the caller's answer; by default a "stop" becomes Cancelled.
    bool report(const StudyProgress& progress, Clock::time_point start, bool throw_on_cancel = true) const {
        if (!on_progress_) {
            return true;
        }
        StudyProgress event = progress;
        event.elapsed_seconds = seconds_since(start);
        const bool go_on = on_progress_(event);
        if (!go_on && throw_on_cancel) {
            throw Cancelled{};
        }
        return go_on;
    }

    StudyRunResult run_one(const StudyRun& run, int count, const StudyResults& results, Clock::time_point start) {
        const FeatureModel& model = model_for(run.model, run);
        const std::filesystem::path& content_file = spec_.contents[run.content_index];
        const std::filesystem::path& style_file = spec_.styles[run.style_index];
        const int evaluation_size = spec_.evaluation_size > 0 ? spec_.evaluation_size : run.options.size;
        const study::RunIdentity identity{file_sha256(content_file), file_sha256(style_file), model.info().sha256,
                                          options_json(run.options), options_.device.str(),   evaluation_size};
        const std::string key = study::run_key(identity);
        const std::filesystem::path directory = study::run_directory(options_.output_dir, key);
        const int done = static_cast<int>(results.runs.size());
        StudyProgress progress{StudyStage::Run, run.index, count, done, false, run.label, nullptr, 0};

        if (std::optional<StudyRunResult> cached = study::load_cached_run(directory, run)) {
            progress.cached = true;
            report(progress, start);
            return *cached;
        }
        report(progress, start);
        const Image& content = image(content_file);
        const Image& style = image(style_file);
        reset_peak_rss();
        StylizeOptions options = run.options;
        options.max_pixels = options_.max_pixels; // not part of the cache key: it changes no pixel
        const Clock::time_point began = Clock::now();
        const StylizeResult result =
            stylize(model, content, {StyleImage{style, 1.0}}, options, [&](const ProgressEvent& event) {
                StudyProgress inner = progress;
                inner.inner = &event;
                return report(inner, start, /*throw_on_cancel=*/false);
            });
        if (result.cancelled) {
            throw Cancelled{};
        }
        StudyRunResult outcome;
        outcome.run = run;
        outcome.key = key;
        outcome.wall_seconds = seconds_since(began);
        outcome.peak_memory_bytes = peak_rss_bytes();
        outcome.history = result.history;
        outcome.width = result.width;
        outcome.height = result.height;
        outcome.iterations_done = result.iterations_done;
        outcome.evaluation = evaluate(*evaluator_, result.image, content, style, EvaluationOptions{evaluation_size});
        study::store_run(directory, result.image, outcome);
        ++executed_;
        return outcome;
    }

    const FeatureModel& model_for(const std::string& name, const StudyRun& run) {
        auto found = models_.find(name);
        if (found == models_.end()) {
            std::optional<WeightSetInfo> info = store_.find(name);
            if (!info) {
                throw WeightsError(name_ + ":" + std::to_string(line_of(run, "model")) + ": model '" + name +
                                   "' is not installed in " + store_.dir().string() +
                                   "; `impasto weights status` lists the installed sets");
            }
            found = models_.emplace(name, FeatureModel::create(load_weight_set(*info), options_.device)).first;
        }
        return *found->second;
    }

    void check_layers(const StudyRun& run, const FeatureModel& model) const {
        const std::pair<const char*, const std::vector<std::string>*> lists[] = {
            {"content_layers", &run.options.content_layers}, {"style_layers", &run.options.style_layers}};
        for (const auto& [key, layers] : lists) {
            try {
                check_layer_names(*layers, key, model.architecture());
            } catch (const ConfigError& error) {
                throw ConfigError(name_ + ":" + std::to_string(line_of(run, key)) + ": run " +
                                  std::to_string(run.index + 1) + " (" + run.label + ", model " + run.model +
                                  "): " + error.what());
            }
        }
    }

    static bool sets(const StudyRun& run, const std::string& key) {
        return std::any_of(run.settings.begin(), run.settings.end(),
                           [&](const SpecSetting& setting) { return setting.key == key; });
    }

    static int line_of(const StudyRun& run, const std::string& key) {
        for (auto it = run.settings.rbegin(); it != run.settings.rend(); ++it) {
            if (it->key == key) {
                return it->value.line;
            }
        }
        return 1;
    }

    const Image& image(const std::filesystem::path& file) {
        auto found = images_.find(file.string());
        if (found == images_.end()) {
            ImageLoadLimits limits;
            limits.max_pixels = options_.max_pixels;
            found = images_.emplace(file.string(), load_image(file, limits)).first;
        }
        return found->second;
    }

    const std::string& file_sha256(const std::filesystem::path& file) {
        auto found = hashes_.find(file.string());
        if (found == hashes_.end()) {
            try {
                found = hashes_.emplace(file.string(), io::sha256_file_hex(file)).first;
            } catch (const Error& error) {
                throw InputError("reading '" + file.string() + "': " + error.what());
            }
        }
        return found->second;
    }

    std::string reconstruction_key(const std::string& kind, const std::vector<std::string>& layers,
                                   const std::filesystem::path& input, const ReconstructionSpec& r,
                                   const std::string& engine_options) {
        std::string text = kind + "|" + engine_options + "|" + IMPASTO_VERSION + "|" + file_sha256(input) + "|" +
                           models_.at(spec_.model)->info().sha256 + "|" + std::to_string(r.size) + "|" +
                           std::to_string(r.iterations) + "|" + std::to_string(r.seed) + "|" +
                           std::to_string(r.feature_count) + "|" + options_.device.str();
        for (const std::string& layer : layers) {
            text += "|" + layer;
        }
        return io::sha256_hex(text).substr(0, 20);
    }

  public:
    int executed() const { return executed_; }

  private:
    const StudySpec& spec_;
    const StudyRunOptions& options_;
    const StudyProgressCallback& on_progress_;
    WeightStore store_;
    std::string name_;
    std::map<std::string, std::shared_ptr<const FeatureModel>> models_;
    std::shared_ptr<const FeatureModel> evaluator_;
    std::map<std::string, Image> images_;
    std::map<std::string, std::string> hashes_;
    int executed_ = 0;
};

} // namespace

StudyResults run_study(const StudySpec& spec, const StudyRunOptions& options,
                       const StudyProgressCallback& on_progress) {
    const Clock::time_point start = Clock::now();
    std::vector<StudyRun> runs = plan_study(spec);
    StudyResults results;
    results.spec = spec;
    results.machine = options.machine;
    StudyRunner runner(spec, options, on_progress);
    runner.check(runs);
    try {
        runner.run_all(runs, results);
        runner.reconstruct_all(results);
    } catch (const Cancelled&) {
        results.complete = false;
    }
    results.runs_executed = runner.executed();
    results.total_seconds = seconds_since(start);
    results.generated_at = utc_now();
    write_study_report(results, options.output_dir);
    return results;
}

} // namespace impasto
