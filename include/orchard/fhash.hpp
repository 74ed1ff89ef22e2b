#pragma once
// Unified functional hashing, the functional-equivalence cache and evolutionary search.
#include "fhash/cache.hpp"
#include "fhash/canonical.hpp"
#include "fhash/collision.hpp"
#include "fhash/domains/compute_graph.hpp"
#include "fhash/domains/lambdas.hpp"
#include "fhash/domains/linear_gp.hpp"
#include "fhash/hasher.hpp"
#include "fhash/parity.hpp"
#include "fhash/search.hpp"
#include "fhash/sha256.hpp"
