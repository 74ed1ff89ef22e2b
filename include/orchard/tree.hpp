#pragma once
// The tree engine shared by gbdt and gbrl: binning, histograms, split search, growth, prediction.
#include "tree/binning.hpp"
#include "tree/grow.hpp"
#include "tree/histogram.hpp"
#include "tree/policy.hpp"
#include "tree/predict.hpp"
#include "tree/second_order.hpp"
#include "tree/shap.hpp"
#include "tree/split.hpp"
#include "tree/tree.hpp"
