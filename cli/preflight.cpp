#include "preflight.hpp"

#include <algorithm>

#include "commands.hpp"
#include "jamjet/core/builtin_handlers.hpp"
#include "jamjet/core/node_spec.hpp"
#include "jamjet/core/unknown_fields.hpp"
#include "jamjet/core/validate.hpp"
#include "jamjet/support/program_path.hpp"
#include "jamjet/support/suggest.hpp"

namespace jamjet::cli {

namespace {

/// The kinds the scheduler runs itself: no handler needed.
const std::vector<std::string> scheduler_kinds{"condition", "wait",
                                               "human_approval"};

void append(std::vector<std::string>& to, std::vector<std::string> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()),
            std::make_move_iterator(from.end()));
}

} // namespace

preflight check_workflow(const workflow_ir& ir,
                         const std::vector<std::string>& handlers,
                         bool strict) {
  preflight result;
  result.problems = validate(ir);
  result.warnings = warnings(ir);
  append(result.warnings, unknown_field_warnings(ir));
  std::vector<std::string> handled{"noop", "command"};
  std::vector<std::string> overridden;
  for (const auto& spec : handlers) {
    auto [kind, argv] = parse_handler_spec(spec);
    handled.push_back(kind);
    overridden.push_back(kind);
    if (auto why = program_problem(argv.front()))
      result.problems.push_back("--handler " + spec + ": " + *why);
  }
  auto known_kinds = handled;
  known_kinds.insert(known_kinds.end(), scheduler_kinds.begin(),
                     scheduler_kinds.end());
  std::vector<std::string> ignored;
  for (const auto& [key, node] : ir.nodes) {
    if (read_node_spec(node, ignored).role != node_role::work)
      continue;
    auto builtin = std::find(overridden.begin(), overridden.end(),
                             node.kind_type) == overridden.end();
    if (std::find(handled.begin(), handled.end(), node.kind_type) ==
        handled.end()) {
      auto msg = "node '" + key + "' has kind '" + node.kind_type +
                 "', which no handler runs (use --handler " + node.kind_type +
                 "=PROGRAM)";
      if (auto near = nearest_name(node.kind_type, known_kinds))
        msg += "; did you mean '" + *near + "'?";
      result.problems.push_back(std::move(msg));
      continue;
    }
    if (!builtin)
      continue;
    append(result.problems, builtin_kind_problems(node));
    if (node.kind_type != "command")
      continue;
    // Only a warning: the workflow may be meant for workers elsewhere.
    if (auto argv = command_argv(node.kind))
      if (auto why = program_problem(argv->front()))
        result.warnings.push_back("node '" + key + "' (command): " + *why +
                                  " on this machine");
  }
  if (strict) {
    append(result.problems, std::move(result.warnings));
    result.warnings.clear();
  }
  return result;
}

std::string invalid_message(const workflow_ir& ir,
                            const std::vector<std::string>& problems) {
  std::string msg = "workflow '" + ir.workflow_id + "' is invalid:";
  for (const auto& p : problems)
    msg += "\n  - " + p;
  return msg;
}

} // namespace jamjet::cli
