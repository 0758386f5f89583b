#include "progress_display.h"

#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <unistd.h>

namespace impasto::cli {

ProgressDisplay::ProgressDisplay(bool enabled) : enabled_(enabled), terminal_(isatty(STDERR_FILENO) == 1) {}

namespace {

std::string format_duration(double seconds) {
    if (seconds < 0 || seconds > 1e7) {
        return "?";
    }
    const int total = static_cast<int>(std::lround(seconds));
    if (total >= 3600) {
        return fmt::format("{}h{:02}m", total / 3600, (total / 60) % 60);
    }
    return total >= 60 ? fmt::format("{}m{:02}s", total / 60, total % 60) : fmt::format("{}s", total);
}

} // namespace

void ProgressDisplay::update(const ProgressEvent& event) {
    if (!enabled_ || event.stage != Stage::Optimizing || event.total_iterations == 0) {
        return;
    }
    const double fraction = static_cast<double>(event.total_iteration) / event.total_iterations;
    // Later scales cost more per iteration, so the ETA from the average rate is optimistic early on.
    const double eta = fraction > 0 ? event.elapsed_seconds * (1 - fraction) / fraction : -1;
    const std::string status = fmt::format(
        "scale {}/{} {}x{} it {}/{} loss {:.4g} (c {:.3g} s {:.3g}) {} elapsed, ETA {}", event.scale_index + 1,
        event.scale_count, event.width, event.height, event.iteration, event.iterations, event.losses.total,
        event.losses.content, event.losses.style, format_duration(event.elapsed_seconds), format_duration(eta));
    if (terminal_) {
        constexpr int kWidth = 24;
        const int filled = static_cast<int>(fraction * kWidth);
        std::string bar(static_cast<std::size_t>(filled), '=');
        bar.resize(kWidth, ' ');
        std::fprintf(stderr, "\r\033[K[%s] %3d%% %s", bar.c_str(), static_cast<int>(fraction * 100), status.c_str());
        std::fflush(stderr);
        drawn_ = true;
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool last = event.total_iteration == event.total_iterations;
    if (last || event.iteration == 1 || now - last_line_ >= std::chrono::seconds(5)) {
        std::fprintf(stderr, "%3d%% %s\n", static_cast<int>(fraction * 100), status.c_str());
        last_line_ = now;
    }
}

void ProgressDisplay::finish() {
    if (drawn_) {
        std::fprintf(stderr, "\n");
        drawn_ = false;
    }
}

} // namespace impasto::cli
