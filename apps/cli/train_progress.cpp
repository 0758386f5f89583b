#include "train_progress.h"

#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <unistd.h>

namespace impasto::cli {
namespace {

std::string format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e8) {
        return "?";
    }
    const long total = std::lround(seconds);
    if (total >= 3600) {
        return fmt::format("{}h{:02}m", total / 3600, (total / 60) % 60);
    }
    return total >= 60 ? fmt::format("{}m{:02}s", total / 60, total % 60) : fmt::format("{}s", total);
}

std::string format_losses(const std::map<std::string, double>& losses) {
    std::string text;
    const auto total = losses.find("total");
    if (total != losses.end()) {
        text = fmt::format("loss {:.4g}", total->second);
    }
    std::string parts;
    for (const auto& [name, value] : losses) {
        if (name != "total") {
            parts += fmt::format("{}{} {:.3g}", parts.empty() ? "" : " ", name, value);
        }
    }
    return parts.empty() ? text : text + " (" + parts + ")";
}

// " [data 0.01 forward 0.12 ...]": where a step's time goes, with --profile.
std::string format_parts(const std::map<std::string, double>& seconds) {
    std::string text;
    for (const auto& [part, value] : seconds) {
        text += fmt::format("{}{} {:.3f}", text.empty() ? " [" : " ", part, value);
    }
    return text.empty() ? text : text + " s]";
}

} // namespace

TrainProgress::TrainProgress(bool enabled) : enabled_(enabled), terminal_(isatty(STDERR_FILENO) == 1) {}

void TrainProgress::update(const TrainEvent& event) {
    if (!enabled_ || event.steps <= 0) {
        return;
    }
    const double fraction = static_cast<double>(event.step) / event.steps;
    const double eta = event.seconds_per_step * (event.steps - event.step);
    const std::string status = fmt::format("step {}/{} {} {:.2f} s/step{}, {} elapsed, ETA {}{}", event.step,
                                           event.steps, format_losses(event.losses), event.seconds_per_step,
                                           format_parts(event.step_seconds), format_duration(event.elapsed_seconds),
                                           format_duration(eta), event.checkpointed ? " [checkpoint]" : "");
    if (terminal_) {
        constexpr int kWidth = 24;
        std::string bar(static_cast<std::size_t>(fraction * kWidth), '=');
        bar.resize(kWidth, ' ');
        std::fprintf(stderr, "\r\033[K[%s] %3d%% %s", bar.c_str(), static_cast<int>(fraction * 100), status.c_str());
        std::fflush(stderr);
        drawn_ = true;
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool first = last_line_ == std::chrono::steady_clock::time_point{};
    if (first || event.step == event.steps || event.checkpointed || now - last_line_ >= std::chrono::seconds(10)) {
        std::fprintf(stderr, "%3d%% %s\n", static_cast<int>(fraction * 100), status.c_str());
        last_line_ = now;
    }
}

void TrainProgress::finish() {
    if (drawn_) {
        std::fprintf(stderr, "\n");
        drawn_ = false;
    }
}

} // namespace impasto::cli
