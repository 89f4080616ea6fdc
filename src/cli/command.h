// command.h — how a `codebind <command>` registers itself. Each src/cli/cmd_*.cpp file
// defines one command: CB_REGISTER_COMMAND(name, help, setup) where `setup(CLI::App*)` adds
// the options and returns the function that runs the command (exit code as result).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace cb::cli {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App*)>;

struct CommandRegistrar {
  CommandRegistrar(const std::string& name, const std::string& help, Setup setup);
};

struct Command {
  std::string name, help;
  Setup setup;
};
std::vector<Command>& commands();

}  // namespace cb::cli

#define CB_REGISTER_COMMAND(name, help, setup) \
  static ::cb::cli::CommandRegistrar cb_cmd_registrar_##setup(name, help, setup)
