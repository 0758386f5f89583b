// `impasto study SPEC`: run a grid of Gatys runs resumably and write one HTML report.
#include "cli_common.h"
#include "commands.h"
#include "impasto/error.h"
#include "impasto/study.h"
#include "interrupt.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

namespace impasto::cli {
namespace {

struct StudyArgs {
    std::string spec;
    std::string output;
    std::string device = "auto";
    std::string precision = "auto";
    int threads = 0;
    bool dry_run = false;
    std::int64_t max_pixels = kDefaultMaxPixels;
};

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const std::size_t colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    }
    return "unknown CPU";
}

std::string machine_description(const Device& device, int threads) {
    std::string text =
        device.str() + ", " + std::to_string(threads) + " threads, " + cpu_model() + ", LibTorch " + torch_version();
    const std::string core = blas_core();
    text += ", BLAS " + blas_library() + (core.empty() ? "" : " (" + core + ")");
    return text;
}

std::string format_duration(double seconds) {
    char buffer[32];
    const long total = std::lround(seconds);
    if (total >= 3600) {
        std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", total / 3600, total / 60 % 60);
    } else if (total >= 60) {
        std::snprintf(buffer, sizeof buffer, "%ldm%02lds", total / 60, total % 60);
    } else {
        std::snprintf(buffer, sizeof buffer, "%lds", total);
    }
    return buffer;
}

bool sets_key(const StudySpec& spec, const std::string& key) {
    for (const SpecSetting& setting : spec.base) {
        if (setting.key == key) {
            return true;
        }
    }
    for (const GridAxis& axis : spec.grid) {
        if (axis.key == key) {
            return true;
        }
    }
    return false;
}

// Prints a line per run and, on a terminal, a redrawn status with the study's ETA.
class StudyDisplay {
  public:
    bool operator()(const StudyProgress& progress) {
        if (interrupt_requested()) {
            return false;
        }
        const char* stage = progress.stage == StudyStage::Run ? "run" : "reconstruction";
        if (progress.inner == nullptr) {
            end_status_line();
            if (progress.cached) {
                std::printf("[%s %d/%d] %s (cached)\n", stage, progress.index + 1, progress.count,
                            progress.label.c_str());
                ++cached_;
            } else {
                if (run_started_) {
                    executed_seconds_ += progress.elapsed_seconds - run_start_;
                    ++executed_;
                }
                run_started_ = true;
                run_start_ = progress.elapsed_seconds;
                std::printf("[%s %d/%d] %s%s\n", stage, progress.index + 1, progress.count, progress.label.c_str(),
                            eta(progress).c_str());
            }
            std::fflush(stdout);
            return true;
        }
        if (terminal_) {
            const ProgressEvent& event = *progress.inner;
            std::printf("\r  iteration %d/%d  %dx%d  loss %.4g  %s elapsed\x1b[K", event.total_iteration,
                        event.total_iterations, event.width, event.height, event.losses.total,
                        format_duration(progress.elapsed_seconds - run_start_).c_str());
            std::fflush(stdout);
            status_drawn_ = true;
        }
        return true;
    }

    void end_status_line() {
        if (status_drawn_) {
            std::printf("\r\x1b[K");
            status_drawn_ = false;
        }
    }

  private:
    std::string eta(const StudyProgress& progress) const {
        if (executed_ == 0 || progress.stage != StudyStage::Run) {
            return "";
        }
        const double per_run = executed_seconds_ / executed_;
        const int left = progress.count - progress.index;
        return "  (ETA " + format_duration(per_run * left) + " if none is cached)";
    }

    bool terminal_ = isatty(fileno(stdout)) != 0;
    bool status_drawn_ = false;
    bool run_started_ = false;
    double run_start_ = 0;
    double executed_seconds_ = 0;
    int executed_ = 0;
    int cached_ = 0;
};

void run_study_command(const StudyArgs& args, CliState& state) {
    const std::int64_t max_pixels = decode_limits(args.max_pixels).max_pixels;
    StudySpec spec = load_study_spec(args.spec);
    const Device device = resolve_device(args.device);
    if (!sets_key(spec, "precision")) {
        SpecValue precision;
        precision.kind = SpecValue::Kind::String;
        precision.text = to_string(resolve_precision(args.precision, device));
        spec.base.insert(spec.base.begin(), SpecSetting{"precision", precision});
    }
    const std::vector<StudyRun> runs = plan_study(spec);
    if (args.dry_run) {
        for (const StudyRun& run : runs) {
            std::printf("%4d  %s  [%s, %s]\n", run.index + 1, run.label.c_str(), run.model.c_str(),
                        run.options.preset.c_str());
        }
        std::printf("%zu runs\n", runs.size());
        return;
    }
    const int threads = resolve_threads(args.threads);
    set_num_threads(threads);
    StudyRunOptions options;
    options.max_pixels = max_pixels;
    options.weights_dir = state.weights_dir;
    options.output_dir = args.output.empty() ? std::filesystem::path("study-" + spec.file.stem().string())
                                             : std::filesystem::path(args.output);
    options.device = device;
    options.machine = machine_description(device, threads);
    install_interrupt_handlers();
    StudyDisplay display;
    const StudyResults results =
        run_study(spec, options, [&display](const StudyProgress& progress) { return display(progress); });
    display.end_status_line();
    std::printf("%s: %zu runs (%d run now, %zu cached) in %s\nreport: %s\n", results.complete ? "done" : "interrupted",
                results.runs.size(), results.runs_executed,
                results.runs.size() - static_cast<std::size_t>(results.runs_executed),
                format_duration(results.total_seconds).c_str(), (options.output_dir / "report.html").c_str());
    if (!results.complete) {
        std::printf("run the same command again to continue; finished runs are kept\n");
        state.exit_code = 130;
    }
}

} // namespace

void setup_study(CLI::App& app, CliState& state) {
    auto args = std::make_shared<StudyArgs>();
    CLI::App* cmd = app.add_subcommand(
        "study", "Run a study spec (TOML/JSON): a grid of runs, cached and resumable, into one HTML report");
    cmd->add_option("spec", args->spec, "Study spec, .toml or .json (see studies/)")->required();
    cmd->add_option("-o,--output", args->output, "Output folder (default: study-<spec name>)");
    cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--precision", args->precision, "auto, fp32 or bf16, where the spec does not set it")
        ->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads; 0 = every core")->capture_default_str();
    cmd->add_flag("--dry-run", args->dry_run, "Check the spec and list the runs without running them");
    cmd->add_option("--max-pixels", args->max_pixels,
                    max_pixels_help("and the most pixels any image may have as the network sees it"));
    cmd->callback([args, &state] { run_study_command(*args, state); });
}

} // namespace impasto::cli
