#include "runtime/cli/commands.hpp"

#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "runtime/builtin_handlers.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/graph.hpp"
#include "runtime/runtime.hpp"

namespace jamjet::cli {

namespace {

/// Splits "KIND=PROGRAM ARGS..." into the kind and argv.
std::pair<std::string, std::vector<std::string>>
parse_handler_spec(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw error(error_code::bad_input,
                "--handler '" + spec + "' must look like KIND=PROGRAM");
  std::vector<std::string> argv;
  std::istringstream words{spec.substr(eq + 1)};
  for (std::string w; words >> w;)
    argv.push_back(w);
  if (argv.empty())
    throw error(error_code::bad_input,
                "--handler '" + spec + "' names no program");
  return {spec.substr(0, eq), std::move(argv)};
}

/// Kinds handled by the CLI: the built-ins plus `--handler` ones.
std::vector<std::string> handled_kinds(const std::vector<std::string>& specs) {
  std::vector<std::string> kinds{"noop", "command"};
  for (auto& spec : specs)
    kinds.push_back(parse_handler_spec(spec).first);
  return kinds;
}

/// "node 'x' has kind 'y'" for every node without a handler.
std::vector<std::string> unhandled(const workflow_graph& graph,
                                   const std::vector<std::string>& kinds) {
  std::vector<std::string> result;
  for (auto& node : graph.nodes())
    if (std::find(kinds.begin(), kinds.end(), node.kind_type) == kinds.end())
      result.push_back("node '" + node.id + "' has kind '" + node.kind_type
                       + "'");
  return result;
}

std::string list(const std::vector<std::string>& lines) {
  std::string out;
  for (auto& l : lines)
    out += "\n  - " + l;
  return out;
}

} // namespace

int validate_command(const std::string& path,
                     const std::vector<std::string>& handlers) {
  auto graph = workflow_graph::compile(parse_ir(read_file(path)));
  auto missing = unhandled(*graph, handled_kinds(handlers));
  std::cout << "workflow '" << graph->workflow_id() << "' version '"
            << graph->version() << "' is valid: " << graph->size()
            << " nodes\n";
  if (!missing.empty()) {
    std::cerr << "error: no handler for these node kinds (use --handler "
                 "KIND=PROGRAM):"
              << list(missing) << "\n";
    return exit_bad_input;
  }
  return exit_completed;
}

int run_command(const run_options& opts) {
  auto ir_text = read_file(opts.workflow);
  auto input = parse_input(opts.input);
  auto graph = workflow_graph::compile(parse_ir(ir_text));
  auto missing = unhandled(*graph, handled_kinds(opts.handlers));
  if (!missing.empty())
    throw error(error_code::missing_handler,
                "workflow '" + graph->workflow_id()
                  + "' cannot run: no handler for these node kinds (use "
                    "--handler KIND=PROGRAM):"
                  + list(missing));
  runtime_config cfg;
  cfg.worker_slots = opts.slots;
  runtime rt{cfg};
  auto timeout = std::chrono::seconds{opts.node_timeout_secs};
  rt.register_builtin_handlers(timeout);
  for (auto& spec : opts.handlers) {
    auto [kind, argv] = parse_handler_spec(spec);
    rt.register_handler(
      kind,
      [argv = argv, timeout](const node_context& ctx) {
        return program_handler(ctx, argv, timeout);
      },
      true);
  }
  rt.register_workflow(ir_text);
  auto id = rt.start(graph->workflow_id(), input, graph->version());
  spdlog::info("execution {} of '{}' started ({} nodes)", id,
               graph->workflow_id(), graph->size());
  auto result = rt.wait(id);
  if (result.completed()) {
    spdlog::info("execution {} completed", id);
    std::cout << result.state.dump(2) << "\n";
    return exit_completed;
  }
  std::cerr << "error: execution " << id << " " << result.status << ": "
            << result.error << "\n";
  return exit_failed;
}

} // namespace jamjet::cli
