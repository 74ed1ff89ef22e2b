#pragma once
// Training-data influence for gradient-boosted trees: BoostIn, LeafInfluence(SP), LeafRefit, TREX,
// similarity baselines, LOO / SubSample, and the evaluation harness (orchard::influence::eval).
#include "influence/eval.hpp"
#include "influence/make.hpp"
