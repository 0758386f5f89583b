#include "interrupt.h"

#include <atomic>
#include <csignal>

namespace impasto::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int /*signal*/) {
    g_interrupted.store(true);
}

} // namespace

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool interrupt_requested() {
    return g_interrupted.load();
}

} // namespace impasto::cli
