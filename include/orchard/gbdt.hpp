#pragma once
// Gradient-boosted decision trees: training, prediction, model files, XGBoost/LightGBM import.
#include "gbdt/import.hpp"
#include "gbdt/metric.hpp"
#include "gbdt/model.hpp"
#include "gbdt/objective.hpp"
#include "gbdt/params.hpp"
#include "gbdt/train.hpp"
