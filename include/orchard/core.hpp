#pragma once
// Core utilities shared by every family.
#include "core/config.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/matrix_view.hpp"
#include "core/memory.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/io.hpp"
#include "core/json.hpp"
