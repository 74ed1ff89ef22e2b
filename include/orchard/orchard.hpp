#pragma once
// Umbrella header for users who want everything; the library itself never includes it.
#include "core.hpp"
// Families are included when present in this installation.
#if __has_include("tree.hpp")
#include "tree.hpp"
#endif
#if __has_include("spectral.hpp")
#include "spectral.hpp"
#endif
#if __has_include("gbdt.hpp")
#include "gbdt.hpp"
#endif
#if __has_include("influence.hpp")
#include "influence.hpp"
#endif
#if __has_include("gbrl.hpp")
#include "gbrl.hpp"
#endif
#if __has_include("rl.hpp")
#include "rl.hpp"
#endif
#if __has_include("gbnn.hpp")
#include "gbnn.hpp"
#endif
#if __has_include("fhash.hpp")
#include "fhash.hpp"
#endif
#if __has_include("ss3.hpp")
#include "ss3.hpp"
#endif
