#pragma once
// Umbrella header for users who want everything; the library itself never includes it.
#include "core.hpp"
