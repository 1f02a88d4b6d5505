// libFuzzer target: a workflow IR document as it reaches `register`
// (CLI file, network request): parse_ir, validate, warnings, compile.
//
// Documented failures are a `jamjet::error` with code `bad_input` (not IR)
// or `invalid_workflow` (a graph that cannot complete). Anything else (a
// crash, a sanitizer report, another exception type, or compile and
// validate disagreeing) is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "jamjet/core/validate.hpp"
#include "jamjet/core/workflow_registry.hpp"
#include "jamjet/messages/error.hpp"
#include "jamjet/messages/ir.hpp"

namespace {

[[noreturn]] void finding(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_ir: %s %s\n", what, detail.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jamjet;
  std::string text(reinterpret_cast<const char*>(data), size);
  workflow_ir ir;
  try {
    ir = parse_ir(text);
  } catch (const jamjet::error& ex) {
    if (ex.code() != error_code::bad_input)
      finding("parse_ir threw a code other than bad_input:", ex.what());
    return 0;
  }
  auto problems = validate(ir);
  auto notes = warnings(ir);
  (void)notes;
  // What parse_ir read, written back, reads again.
  try {
    auto again = ir_from_json(to_json(ir));
    if (to_json(again) != to_json(ir))
      finding("to_json(ir_from_json(to_json(ir))) differs");
  } catch (const jamjet::error& ex) {
    finding("a parsed IR does not read back:", ex.what());
  }
  try {
    auto graph = workflow_registry::compile(text);
    if (!problems.empty())
      finding("compile accepted an IR validate refuses:", problems.front());
  } catch (const jamjet::error& ex) {
    if (ex.code() != error_code::invalid_workflow)
      finding("compile of a parsed IR threw a code other than "
              "invalid_workflow:",
              ex.what());
    if (problems.empty())
      finding("compile refused an IR validate accepts:", ex.what());
  }
  return 0;
}
