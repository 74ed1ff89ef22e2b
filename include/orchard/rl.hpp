#pragma once
// orchard::rl: Gymnasium-style environments, vectorised stepping, actor-critic losses with
// closed-form output gradients, and PPO / A2C / AWR training of any function approximator.
#include "rl/approximator.hpp"
#include "rl/distributions.hpp"
#include "rl/env.hpp"
#include "rl/gae.hpp"
#include "rl/gbrl_model.hpp"
#include "rl/losses.hpp"
#include "rl/make_env.hpp"
#include "rl/trainer.hpp"
#include "rl/vec_env.hpp"
