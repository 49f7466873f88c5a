// ember/io.hpp — checkpoints (safetensors), the JSON reader they use, and atomic, bounded file
// reading and writing.
#pragma once

#include "ember/io/file.hpp"
#include "ember/io/json.hpp"
#include "ember/io/safetensors.hpp"
