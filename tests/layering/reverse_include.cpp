// Must NOT compile: the core layer including a header of the actors layer,
// a later one. ctest builds this file's target and passes only when the
// compiler cannot find the header (tests/CMakeLists.txt, "layering.*").
#include "jamjet/actors/backend.hpp"
