// ember/optim.hpp — optimisers, gradient clipping and learning-rate schedules.
#pragma once

#include "ember/optim/optimizer.hpp"
