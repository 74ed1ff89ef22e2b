#pragma once
// orchard::gbrl: gradient-boosted multi-output trees fit to caller-supplied gradients.
#include "gbrl/ensemble.hpp"
#include "gbrl/params.hpp"
#include "gbrl/score.hpp"
#include "gbrl/shap.hpp"
