#pragma once
// orchard::gbnn — hidden layers trained by gradient boosting (GBNN), exported to one network, and
// the plain MLP baseline trained by L-BFGS or Adam.
#include "gbnn/model.hpp"
#include "gbnn/mlp.hpp"
