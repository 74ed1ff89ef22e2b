#pragma once
// SS3 text classification: pyss3-exact model, tokenisers, model files, data loaders, evaluation and
// grid search, streaming early risk detection, explanations.
#include "ss3/tokenizer.hpp"
#include "ss3/model.hpp"
#include "ss3/io.hpp"
#include "ss3/data.hpp"
#include "ss3/evaluation.hpp"
#include "ss3/early_risk.hpp"
#include "ss3/explain.hpp"
