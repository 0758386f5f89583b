// The impasto command-line program: subcommands live in cmd_<name>.cpp.
#include "blas_core.h"
#include "cli_common.h"
#include "commands.h"
#include "impasto/error.h"
#include "impasto/version.h"
#include "impasto/weights.h"

#include <cstdio>
#include <exception>
#include <string>

namespace {

// Exit codes are part of the CLI's contract (documented in the README).
int exit_code_for(const impasto::Error& error) {
    const std::string code = error.code();
    if (code == "config" || code == "input") {
        return 2;
    }
    if (code == "weights") {
        return 3;
    }
    if (code == "output") {
        return 4;
    }
    if (code == "resource") {
        return 5;
    }
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"impasto: neural style transfer (Gatys, Ecker & Bethge 2016) in C++", "impasto"};
    app.set_version_flag("--version", std::string("impasto ") + IMPASTO_VERSION);
    app.require_subcommand(1);
    app.fallthrough();

    impasto::cli::reexec_with_better_blas_core(argc, argv);
    impasto::cli::remember_command_line(argc, argv);
    impasto::cli::CliState state;
    state.weights_dir = impasto::default_weights_dir();
    app.add_option("--weights-dir", state.weights_dir, "Folder holding installed weight sets")
        ->capture_default_str()
        ->envname("IMPASTO_WEIGHTS_DIR");

    impasto::cli::setup_stylize(app, state);
    impasto::cli::setup_evaluate(app, state);
    impasto::cli::setup_weights(app, state);
    impasto::cli::setup_layers(app, state);
    impasto::cli::setup_study(app, state);
    impasto::cli::setup_reconstruct(app, state);
    impasto::cli::setup_models(app, state);
    impasto::cli::setup_train(app, state);
    impasto::cli::setup_serve(app, state);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "impasto: error: %s\n", e.what());
        return 2;
    } catch (const impasto::Error& e) {
        std::fprintf(stderr, "impasto: error: %s\n", e.what());
        return exit_code_for(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "impasto: internal error: %s\n", e.what());
        return 1;
    }
    return state.exit_code;
}
