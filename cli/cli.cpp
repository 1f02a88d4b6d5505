#include "cli.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/json_limits.hpp"
#include "jamjet/messages/json_text.hpp"
#include "jamjet/support/log.hpp"

namespace jamjet::cli {

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw error(error_code::bad_input,
                "cannot read '" + path + "': " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

nlohmann::json parse_input_json(const std::string& arg,
                                const std::string& option) {
  std::string text = arg;
  std::string origin = option;
  if (!arg.empty() && arg[0] == '@') {
    text = read_file(arg.substr(1));
    origin = option + " file '" + arg.substr(1) + "'";
  }
  // Bounded before anything copies or dumps the value (json_limits.hpp).
  if (auto problem = json_limit_problem(text))
    throw error(error_code::bad_input, origin + " refused: " + *problem);
  auto doc = parse_json_located(text, origin + " is not valid JSON");
  return doc;
}

nlohmann::json parse_input(const std::string& arg) {
  auto doc = parse_input_json(arg, "--input");
  std::string origin = "--input";
  if (!arg.empty() && arg[0] == '@')
    origin = "--input file '" + arg.substr(1) + "'";
  if (!doc.is_object())
    throw error(error_code::bad_input, origin + " must be a JSON object, not " +
                                         std::string{doc.type_name()});
  return doc;
}

void setup_logging(const std::string& level) {
  spdlog::set_default_logger(log());
  spdlog::set_level(spdlog::level::from_str(level));
}

} // namespace jamjet::cli
