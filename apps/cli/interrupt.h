#pragma once
// SIGINT/SIGTERM become a flag that the progress callback reads, so that an interrupted run
// still saves its current image and sidecar before exiting with 130.
namespace impasto::cli {

void install_interrupt_handlers();
bool interrupt_requested();

} // namespace impasto::cli
