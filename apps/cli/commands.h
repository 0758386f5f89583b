#pragma once
// One setup_<name> per subcommand. Each registers its options on a subcommand of `app`,
// binding them to an options struct, and installs a callback that runs it. Callbacks throw
// impasto::Error on failure; main() turns that into one line and an exit code.
#include <CLI/CLI.hpp>
#include <filesystem>

namespace impasto::cli {

struct CliState {
    std::filesystem::path weights_dir; // from --weights-dir, defaults to impasto::default_weights_dir()
    int exit_code = 0;                 // a callback may set it (130 after an interruption)
    bool quiet = false;
};

void setup_stylize(CLI::App& app, CliState& state);
void setup_weights(CLI::App& app, CliState& state);
void setup_layers(CLI::App& app, CliState& state);
void setup_evaluate(CLI::App& app, CliState& state);
void setup_study(CLI::App& app, CliState& state);
void setup_reconstruct(CLI::App& app, CliState& state);
void setup_models(CLI::App& app, CliState& state);
void setup_train(CLI::App& app, CliState& state);
void setup_serve(CLI::App& app, CliState& state);

} // namespace impasto::cli
